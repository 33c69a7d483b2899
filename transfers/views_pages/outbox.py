"""送信通知: the list (no personal data: kinds, receivers, ids, states), one notice with its history in the audit
chain and its payload (personal data: the person is opened through the gate), and the supervisor's 再送 (reason
required, 確認 page, one-time token; the delivery service records `resent` in the chain)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from audit.gate import personal_data_view
from audit.views import once
from common.paging import page_queries

from ..forms import OutboxFilterForm, ResendForm
from ..models import OutboundNotice
from . import display, persons, queries

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


@personal_data_view(VIEW, subject_kind="notice")
def notice_list(request: HttpRequest, access) -> HttpResponse:
    form = OutboxFilterForm(request.GET or None)
    after = request.GET.get("after", "")
    now = timezone.now()
    page = None
    if form.is_bound:
        access.conditions = _conditions(form)
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        flt = queries.OutboxFilter(
            state=data.get("state", ""),
            kind=data.get("kind", ""),
            receiver=data.get("receiver", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            overdue_only=data.get("overdue", False),
        )
        page = queries.outbox_page(flt, after=after, now=now)
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
            "overdue_count": queries.overdue_count(now),
            "attention": [a for a in queries.attention_counts(now) if a.count],
            "cap": queries.ATTENTION_CAP,
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


@personal_data_view(VIEW, subject_kind="resident")
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
            "history": list(queries.transmission_history(notice.message_id)),
            "payload_rows": display.payload_rows(notice.kind, notice.schema_version, notice.payload),
            "resend_form": ResendForm() if request.user.has_perm(RESEND) else None,
            "section": "outbox",
        },
    )


def _step(request: HttpRequest) -> str:
    if request.method != "POST":
        return "form"
    if "back" in request.POST:
        return "back"
    return request.POST.get("step", "confirm")


def _resend(notice: OutboundNotice, actor, reason: str) -> OutboundNotice:
    from .. import delivery  # the delivery service (issue 4); imported when used

    return delivery.resend(notice, actor, reason)


@personal_data_view(VIEW, RESEND, subject_kind="notice")
@require_http_methods(["GET", "POST"])
def resend(request: HttpRequest, access, notice_id: int) -> HttpResponse:
    """再送: the notice is put back to be delivered again (a new attempt, same message id). No payload here."""
    notice = get_object_or_404(OutboundNotice.objects.defer("payload"), pk=notice_id)
    access.conditions = {"notice_id": notice.pk}
    context = {"item": _header(notice), "notice": notice, "section": "outbox"}
    form = ResendForm(request.POST if request.method == "POST" else None)
    step = _step(request)
    if step in ("form", "back") or not form.is_valid():
        return render(request, "transfers/resend_form.html", {**context, "form": form})
    if step != "commit":
        return render(request, "transfers/resend_confirm.html", {**context, "form": form, "token": once.issue(request)})
    if not once.consume(request, request.POST.get("token", "")):
        messages.warning(request, ALREADY_DONE)
        return redirect("notices:outbound", notice_id=notice.pk)
    try:
        _resend(notice, request.user, form.cleaned_data["reason"])
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return render(request, "transfers/resend_form.html", {**context, "form": form})
    messages.success(request, f"通知 {str(notice.message_id)[:8]} を再送の対象にしました。")
    return redirect("notices:outbound", notice_id=notice.pk)
