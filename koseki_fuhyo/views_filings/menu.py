"""The 届出受付 menu (the kinds, grouped) and the 受付 page of one recorded 届出."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from audit.gate import personal_data_view
from registry.models import ResidentChange
from registry.views.changes.base import resident_url

from ..models import KosekiFiling
from .base import MENU_GROUPS, PERMISSION, filing_title


@login_required
@permission_required(PERMISSION, raise_exception=True)
def menu(request: HttpRequest) -> HttpResponse:
    """The kinds of 届出, grouped as the counter sorts them (no personal data)."""
    groups = [
        (label, [(filing_title(kind), reverse(f"koseki_filings:{kind}")) for kind in kinds])
        for label, kinds in MENU_GROUPS
    ]
    return render(request, "koseki_fuhyo/filings/menu.html", {"groups": groups, "title": "戸籍届出の受付"})


@personal_data_view(PERMISSION, subject_kind="fuhyo_entry", action="menu.filing", label="戸籍届出の受付結果")
def filing(request: HttpRequest, access, filing_id: int) -> HttpResponse:
    """受付結果: the 届出, its persons (restricted ones masked) and the 住民票 changes it made."""
    filing = get_object_or_404(KosekiFiling.objects.select_related("received_at"), pk=filing_id)
    rows = []
    resident_ids = []
    for person in filing.persons.select_related("fuhyo_entry", "resident", "address_municipality"):
        linked = [r for r in (person.fuhyo_entry, person.resident) if r is not None]
        visible = all(access.may_see(r) for r in linked)
        rows.append({"person": person, "visible": visible, "resident_url": ""})
        if visible:
            if person.fuhyo_entry_id:
                access.show(person.fuhyo_entry_id)
            if person.resident_id:
                resident_ids.append(person.resident_id)
                rows[-1]["resident_url"] = resident_url(person.resident_id)
    changes = [
        c
        for c in ResidentChange.objects.filter(filing=filing).select_related("resident").order_by("id")
        if access.may_see(c.resident)
    ]
    resident_ids += [c.resident_id for c in changes if c.resident_id not in resident_ids]
    access.conditions = {"filing": filing.pk, "resident_ids": resident_ids}
    return render(
        request,
        "koseki_fuhyo/filings/filing.html",
        {
            "filing": filing,
            "rows": rows,
            "changes": changes,
            "title": f"{filing_title(filing.kind)}（受付番号 {filing.pk}）",
        },
    )
