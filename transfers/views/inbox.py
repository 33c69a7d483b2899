"""受信通知: the inbox (waiting notices first; the person of each notice by name through the visibility rule, as
「閲覧制限のある方」 for whoever may not see them, and named on the access entry), one notice with the notified values
beside our register's, and the clerk's actions on a waiting notice (確定・本籍照合通知・修正済・対応不要), each
through a 確認 page and a one-time token (common.confirm.OneStepFlow), calling transfers.inbox (which logs
`resolved` in the chain)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from audit.gate import personal_data_view
from audit.people import FUHYO, RESIDENT, Names
from common.confirm import OneStepFlow
from common.paging import page_queries
from registry.models import UsedSubmissionToken

from .. import inbox, selectors
from ..forms import InboxFilterForm, ResolveForm
from ..models import InboundNotice
from . import display, persons

VIEW = "transfers.view_inboundnotice"
RESOLVE = "transfers.resolve_inboundnotice"
ALREADY_DONE = "この操作はすでに処理されています（二重送信）。通知の状態を確かめてください。"
NOT_WAITING = "この通知は処理待ちではありません（{state}）。"


def _conditions(form) -> dict:
    return {name: form.data.get(name) for name in form.fields if form.data.get(name) not in (None, "")}


def _person_refs(notice: InboundNotice) -> list[tuple[str, int]]:
    """The register's records the notice was matched to (none when it matched nobody)."""
    refs = [(RESIDENT, notice.resident_id)] if notice.resident_id else []
    return refs + ([(FUHYO, notice.fuhyo_entry_id)] if notice.fuhyo_entry_id else [])


@personal_data_view(VIEW, subject_kind="notice", action="inbox.inbound_list", label="受信通知")
def inbound_list(request: HttpRequest, access) -> HttpResponse:
    form = InboxFilterForm(request.GET or None)
    after = request.GET.get("after", "")
    page = None
    if form.is_bound:
        access.conditions = _conditions(form)
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        flt = selectors.InboxFilter(
            state=data.get("state", ""),
            kind=data.get("kind", ""),
            sender=data.get("sender", ""),
            authority_refused=bool(data.get("authority_refused")),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
        page = selectors.inbox_page(flt, after=after)
        names = display.partner_names(n.sender for n in page.rows)
        persons = Names(request.user, [ref for n in page.rows for ref in _person_refs(n)])
        persons.record_on(access)
        page.items = [
            {
                "notice": n,
                "short_id": str(n.message_id)[:8],
                "sender_name": names.get(n.sender, ""),
                "persons": [persons.text(ref) for ref in _person_refs(n)],
                "age": display.age_text(n.received_at),
                "waiting": n.state == InboundNotice.State.WAITING,
            }
            for n in page.rows
        ]
    cursor = {"after": page.next_key} if page is not None and page.next_key else None
    next_query, first_query = page_queries(request, cursor, ["after"], on_later_page=bool(after))
    return render(
        request,
        "transfers/inbox_list.html",
        {
            "form": form,
            "page": page,
            "next_query": next_query,
            "first_query": first_query,
            "waiting_count": selectors.waiting_count(),
            "cap": selectors.ATTENTION_CAP,
            "section": "inbox",
        },
    )


def _inbound(inbound_id: int) -> InboundNotice:
    return get_object_or_404(
        InboundNotice.objects.select_related("resident", "fuhyo_entry", "resolved_by"), pk=inbound_id
    )


def _context(request: HttpRequest, access, inbound: InboundNotice) -> dict:
    access.conditions = {"inbound_id": inbound.pk}
    person = persons.open_person(access, persons.of_inbound(inbound))
    names = display.partner_names([inbound.sender])
    return {
        "inbound": inbound,
        "short_id": str(inbound.message_id)[:8],
        "sender_name": names.get(inbound.sender, ""),
        "person": person,
        "compare": display.masked_for(request.user, display.compare_rows(inbound)),
        "section": "inbox",
    }


@personal_data_view(VIEW, subject_kind="resident", action="inbox.inbound_detail", label="受信通知の詳細")
def inbound_detail(request: HttpRequest, access, inbound_id: int) -> HttpResponse:
    inbound = _inbound(inbound_id)
    context = _context(request, access, inbound)
    allowed = display.actions_for(inbound) if request.user.has_perm(RESOLVE) else []
    return render(
        request,
        "transfers/inbox_detail.html",
        {
            **context,
            "payload_rows": display.masked_for(
                request.user, display.payload_rows(inbound.kind, inbound.schema_version, inbound.payload)
            ),
            "actions": allowed,
            "form": ResolveForm(allowed=allowed, inbound=inbound) if allowed else None,
            "replies": list(inbound.replies.defer("payload").order_by("pk")),
        },
    )


class ResolveFlow(OneStepFlow):
    purpose = "notices:resolve"
    form_template = "transfers/resolve_form.html"
    confirm_template = "transfers/resolve_confirm.html"
    token_model = UsedSubmissionToken
    already_done = ALREADY_DONE
    service_fields = {"household": "household_number"}

    def load(self) -> None:
        self.inbound = _inbound(self.kwargs["inbound_id"])
        self.shown = _context(self.request, self.access, self.inbound)
        self.allowed = display.actions_for(self.inbound)

    def context(self) -> dict:
        return self.shown

    def blocked(self) -> str | None:
        return None if self.allowed else NOT_WAITING.format(state=self.inbound.get_state_display())

    def build_form(self, data=None):
        if data is not None:
            return ResolveForm(data, allowed=self.allowed, inbound=self.inbound)
        initial = self.request.GET.get("action", "")
        initial = {"action": initial} if initial in {a.key for a in self.allowed} else {}
        return ResolveForm(allowed=self.allowed, inbound=self.inbound, initial=initial)

    def confirm_context(self, form) -> dict:
        return {"action": form.chosen}

    def execute(self, form) -> ResolveForm:
        note = form.cleaned_data["note"]
        getattr(inbox, form.chosen.key)(self.inbound, self.request.user, note, **form.options())
        return form

    def done(self, result) -> str:
        return f"受信通知 {self.shown['short_id']} を「{result.chosen.label}」で処理しました。"

    def return_url(self) -> str:
        return reverse("notices:inbound", args=[self.inbound.pk])


@personal_data_view(VIEW, RESOLVE, subject_kind="resident", action="inbox.resolve", label="受信通知の処理")
@require_http_methods(["GET", "POST"])
def resolve(request: HttpRequest, access, inbound_id: int) -> HttpResponse:
    return ResolveFlow(request, access, inbound_id=inbound_id).handle()
