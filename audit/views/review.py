"""監査記録の確認 (audit review): the audit chain and the change history in one list with one set of filters, and
「この記録を見た人」 when opened from a 住民票 or 附票 page (the person filter). Every read is logged by the gate,
with the filters typed and the persons asked about."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from common.paging import page_queries

from .. import review
from ..forms_review import ReviewFilterForm
from ..gate import personal_data_view
from ..visibility import may_see

REVIEW_PERMISSIONS = ("audit.view_auditlogentry", "auditlog.view_logentry")


def _conditions(form: ReviewFilterForm) -> dict:
    """What the supervisor asked for, as typed (the log of the log)."""
    return {name: form.data.get(name) for name in form.fields if form.data.get(name) not in (None, "")}


@personal_data_view(*REVIEW_PERMISSIONS, subject_kind="audit_log", action="review.review_list", label="監査記録の確認")
def review_list(request: HttpRequest, access) -> HttpResponse:
    form = ReviewFilterForm(request.GET or None)
    audit_before = request.GET.get("ab") or None
    change_before = request.GET.get("cb") or None
    page = flt = None
    if form.is_bound:
        access.conditions = _conditions(form)
        if audit_before or change_before:
            access.conditions["page"] = {"ab": audit_before, "cb": change_before}
    if not form.is_bound or form.is_valid():
        flt = form.to_filter() if form.is_bound else review.ReviewFilter()
        if flt.person is not None:
            access.show(flt.person.residents)
            if flt.person.fuhyo_entries:
                access.conditions["fuhyo_entry_ids"] = [e.pk for e in flt.person.fuhyo_entries]
        page = review.page(flt, audit_before=audit_before, change_before=change_before)
        review.name_people(page.rows, request.user).record_on(access)
    cursor = {"ab": page.next_audit, "cb": page.next_change} if page is not None and page.has_next else None
    next_query, first_query = page_queries(
        request, cursor, ["ab", "cb"], on_later_page=bool(audit_before or change_before)
    )
    return render(
        request,
        "audit/review.html",
        {
            "form": form,
            "page": page,
            "person": flt.person if flt is not None else None,
            # who the ids belong to is not told for a person restricted for this user (audit.visibility)
            "person_masked": flt is not None
            and flt.person is not None
            and not all(may_see(request.user, r) for r in flt.person.records()),
            "next_query": next_query,
            "first_query": first_query,
            "paged": bool(audit_before or change_before),
        },
    )
