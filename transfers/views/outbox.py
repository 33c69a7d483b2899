"""送信通知: the list (no personal data: kinds, receivers, ids, states), one notice with its history in the audit
chain and its payload (personal data: the person is opened through the gate), and the supervisor's 再送 (reason
required, 確認 page, one-time token: common.confirm.OneStepFlow; the delivery service records `resent` in the chain)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from audit.gate import personal_data_view
from common.confirm import OneStepFlow
from common.paging import page_queries
from registry.models import UsedSubmissionToken

from .. import delivery, selectors
from ..forms import OutboxFilterForm, ResendForm
from ..models import OutboundNotice
from . import display, persons

VIEW = "transfers.view_outboundnotice"
RESEND = "transfers.resend_outboundnotice"
ALREADY_DONE = "この操作はすでに処理されています（二重送信）。通知の状態を確かめてください。"


def _conditions(form) -> dict:
    return {name: form.data.get(name) for name in form.fields if form.data.get(name) not in (None, "")}


def _item(notice: OutboundNotice, names: dict[str, str], now) -> dict:
    return {
        "notice": notice,
        "short_id": str(notice.message_id)[:8],
        "receiver_name": names.get(notice.receiver, ""),
        "age": display.age_text(notice.created_at, now),
        "overdue": display.is_overdue(notice, now),
    }


@personal_data_view(VIEW, subject_kind="notice", action="outbox.notice_list", label="送信通知")
def notice_list(request: HttpRequest, access) -> HttpResponse:
    form = OutboxFilterForm(request.GET or None)
    after = request.GET.get("after", "")
    now = timezone.now()
    page = None
    if form.is_bound:
        access.conditions = _conditions(form)
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        flt = selectors.OutboxFilter(
            state=data.get("state", ""),
            kind=data.get("kind", ""),
            receiver=data.get("receiver", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            overdue_only=data.get("overdue", False),
        )
        page = selectors.outbox_page(flt, after=after, now=now)
        names = display.partner_names(n.receiver for n in page.rows)
        page.items = [_item(n, names, now) for n in page.rows]
    cursor = {"after": page.next_key} if page is not None and page.next_key else None
    next_query, first_query = page_queries(request, cursor, ["after"], on_later_page=bool(after))
    return render(
        request,
        "transfers/outbox_list.html",
        {
            "form": form,
            "page": page,
            "next_query": next_query,
            "first_query": first_query,
            "overdue_count": selectors.overdue_count(now),
            "attention": [a for a in selectors.attention_counts(now) if a.count],
            "cap": selectors.ATTENTION_CAP,
            "overdue_minutes": display.overdue_after().total_seconds() // 60,
            "section": "outbox",
        },
    )


def _notice(notice_id: int) -> OutboundNotice:
    return get_object_or_404(
        OutboundNotice.objects.select_related(
            "event__resident",
            "event__fuhyo_entry",
            "in_reply_to__resident",
            "in_reply_to__fuhyo_entry",
            "actor",
        ),
        pk=notice_id,
    )


def _header(notice: OutboundNotice) -> dict:
    now = timezone.now()
    names = display.partner_names([notice.receiver])
    return _item(notice, names, now)


@personal_data_view(VIEW, subject_kind="resident", action="outbox.notice_detail", label="送信通知の詳細")
def notice_detail(request: HttpRequest, access, notice_id: int) -> HttpResponse:
    notice = _notice(notice_id)
    access.conditions = {"notice_id": notice.pk}
    person = persons.open_person(access, persons.of_outbound(notice))
    return render(
        request,
        "transfers/outbox_detail.html",
        {
            "item": _header(notice),
            "notice": notice,
            "person": person,
            "history": list(selectors.transmission_history(notice.message_id)),
            "payload_rows": display.masked_for(
                request.user, display.payload_rows(notice.kind, notice.schema_version, notice.payload)
            ),
            "resend_form": ResendForm() if request.user.has_perm(RESEND) else None,
            "section": "outbox",
        },
    )


class ResendFlow(OneStepFlow):
    purpose = "notices:resend"
    form_template = "transfers/resend_form.html"
    confirm_template = "transfers/resend_confirm.html"
    token_model = UsedSubmissionToken
    already_done = ALREADY_DONE

    def load(self) -> None:
        self.notice = get_object_or_404(OutboundNotice.objects.defer("payload"), pk=self.kwargs["notice_id"])
        self.access.conditions = {"notice_id": self.notice.pk}

    def context(self) -> dict:
        return {"item": _header(self.notice), "notice": self.notice, "section": "outbox"}

    def build_form(self, data=None):
        return ResendForm(data)

    def execute(self, form) -> OutboundNotice:
        return delivery.resend(self.notice, self.request.user, form.cleaned_data["reason"])

    def done(self, result) -> str:
        return f"通知 {str(self.notice.message_id)[:8]} を再送の対象にしました。"

    def return_url(self) -> str:
        return reverse("notices:outbound", args=[self.notice.pk])


@personal_data_view(VIEW, RESEND, subject_kind="notice", action="outbox.resend", label="送信通知の再送")
@require_http_methods(["GET", "POST"])
def resend(request: HttpRequest, access, notice_id: int) -> HttpResponse:
    """再送: the notice is put back to be delivered again (a new attempt, same message id). No payload here."""
    return ResendFlow(request, access, notice_id=notice_id).handle()
