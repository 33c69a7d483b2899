"""アクセスログ: the list with its filters, one entry, and the check of the hash chain."""

import functools

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from common.paging import page_queries

from .. import chain, labels, office_hours, people, review, screens, selectors, witness
from ..forms import LogFilterForm
from ..gate import personal_data_view
from ..models import AuditLogEntry

LOG_PERMISSION = "audit.view_auditlogentry"
# The login and permission events the filter offers beside the screens (their labels: audit.labels).
FILTERED_EVENTS = ("login", "login_failed", "logout", "grant", "revoke", "use", "restrict", "lift", "expire")


@functools.cache
def known_actions() -> tuple[tuple[str, str], ...]:
    """Every 画面 name the screens write (declared with their views), and the login and permission events: (name,
    画面名) pairs."""
    found = {event: labels.OPERATION_LABELS[event] for event in FILTERED_EVENTS}
    found.update(screens.declared_labels())
    return tuple(sorted(found.items()))


def _row(entry: AuditLogEntry) -> dict:
    local = timezone.localtime(entry.occurred_at)
    return {
        "entry": entry,
        "local": local,
        "after_hours": office_hours.is_after_hours(entry.occurred_at),
        "closed_day": office_hours.closed_reason(local.date()),
        "denied": selectors.is_denied(entry),
        "subject_count": len(entry.subject_ids or []),
        "subject_preview": ", ".join(str(i) for i in (entry.subject_ids or [])[:5]),
        "subject_kind": labels.subject_kind_label(entry.subject_kind),
        "action_label": labels.action_label(entry.action),
        "people": people.refs_of(entry.category, entry.subject_kind, entry.subject_ids, entry.conditions),
    }


def _name_people(rows: list[dict], user, access, limit: int = people.SHOWN_PER_ENTRY) -> None:
    """Each row's persons by name for this reader (「閲覧制限のある方」 where restricted), named on the access entry."""
    names = people.Names(user, [ref for row in rows for ref in row["people"][:limit]])
    for row in rows:
        row["names"] = names.texts(row["people"], limit)
    names.record_on(access)


def _conditions(form: LogFilterForm) -> dict:
    """What the supervisor asked for, as typed (the log of the log)."""
    return {name: form.data.get(name) for name in form.fields if form.data.get(name) not in (None, "")}


@personal_data_view(LOG_PERMISSION, subject_kind="audit_log", action="log.entry_list", label="アクセスログ")
def entry_list(request: HttpRequest, access) -> HttpResponse:
    form = LogFilterForm(request.GET or None)
    page = None
    before = request.GET.get("before", "")
    before_id = int(before) if before.isdigit() else None
    if form.is_bound:
        access.conditions = {**_conditions(form), **({"before": before_id} if before_id else {})}
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        flt = selectors.LogFilter(
            username=data.get("username", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            outcome=data.get("outcome", ""),
            category=data.get("category", ""),
            action=data.get("action", ""),
            person=data.get("person"),
            off_hours_only=data.get("off_hours", False),
        )
        if flt.person is not None:
            access.show(flt.person.residents)
        page = selectors.log_page(flt, before=before_id)
        page.rows = [_row(e) for e in page.entries]
        _name_people(page.rows, request.user, access)
    cursor = {"before": page.next_before} if page is not None and page.next_before else None
    next_query, first_query = page_queries(request, cursor, ["before"], on_later_page=bool(before_id))
    return render(
        request,
        "audit/log_list.html",
        {
            "form": form,
            "page": page,
            "next_query": next_query,
            "first_query": first_query,
            "known_actions": known_actions(),
            "office_hours": office_hours.office_hours(),
            "paged": bool(before_id),
        },
    )


@personal_data_view(LOG_PERMISSION, subject_kind="audit_log", action="log.entry_detail", label="アクセスログの詳細")
def entry_detail(request: HttpRequest, access, log_entry_id: int) -> HttpResponse:
    entry = get_object_or_404(AuditLogEntry.objects.select_related("user"), pk=log_entry_id)
    access.conditions = {"log_entry_id": entry.pk}
    row = _row(entry)
    _name_people([row], request.user, access, limit=len(row["people"]))
    details = [review.detail(k, v) for k, v in (entry.conditions or {}).items() if k != "fuhyo_entry_ids"]
    return render(request, "audit/log_detail.html", {"row": row, "entry": entry, "details": details})


@personal_data_view(LOG_PERMISSION, subject_kind="audit_log", action="log.verify_chain", label="監査ログの改ざん検証")
@require_http_methods(["GET", "POST"])
def verify_chain(request: HttpRequest, access) -> HttpResponse:
    """GET explains; POST walks the whole chain and compares its tail with the newest witness (audit/witness.py; it
    reads every row: minutes at millions of rows, so only on request — the nightly command `verify_audit_chain`
    does the same, and checks the daily seals too)."""
    result = None
    if request.method == "POST":
        started = timezone.now()
        problems = list(chain.verify()) or list(witness.verify_witness())  # the tail witness: a cut-off tail
        result = {
            "intact": not problems,
            "problem": problems[0] if problems else None,
            "checked_at": timezone.localtime(started),
            "seconds": (timezone.now() - started).total_seconds(),
        }
        access.conditions = {"verify": "intact" if not problems else f"broken at {problems[0].entry_id}"}
    return render(request, "audit/verify.html", {"result": result})
