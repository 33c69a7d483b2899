"""通信相手: the partner table, read-only. No key is shown, only a short fingerprint of each public key."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from audit.gate import personal_data_view

from ..models import Partner
from . import display


@personal_data_view("transfers.view_partner", subject_kind="partner", action="partners.partner_list", label="通信相手")
def partner_list(request: HttpRequest, access) -> HttpResponse:
    now = timezone.now()
    rows = [
        {
            "partner": p,
            "sign_fingerprint": display.fingerprint(p.sign_public),
            "box_fingerprint": display.fingerprint(p.box_public),
            "paused": p.paused_until is not None and p.paused_until > now,
        }
        for p in Partner.objects.order_by("code")
    ]
    return render(request, "transfers/partner_list.html", {"rows": rows, "section": "partners"})
