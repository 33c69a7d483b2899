"""管理簿: every hand-over of data (exports, the J-LIS bulk file, backups) — the list with its filters, one entry,
and a print view (A4, no navigation: static/css/print.css). The ledger holds no personal data; its pages are gated
all the same, so that who read it is logged."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from ..exports.ledger import PAGE_SIZE, PRINT_LIMIT, LedgerFilter, ledger
from ..forms_exports import LedgerFilterForm
from ..gate import personal_data_view
from ..models import HandoverRecord
from .exports import DOWNLOADABLE

LEDGER = "audit.view_handoverrecord"


def _filter(request: HttpRequest, access) -> tuple[LedgerFilterForm, LedgerFilter]:
    form = LedgerFilterForm(request.GET or None)
    if form.is_bound:
        access.conditions = {name: request.GET[name] for name in form.fields if request.GET.get(name)}
    return form, form.to_filter()


def _describe(flt: LedgerFilter) -> str:
    parts = []
    if flt.date_from or flt.date_to:
        parts.append(f"期間 {flt.date_from or ''}〜{flt.date_to or ''}")
    if flt.kind:
        parts.append(f"種類 {HandoverRecord.Kind(flt.kind).label}")
    if flt.handler:
        parts.append(f"取扱者 {flt.handler}")
    return "、".join(parts) or "条件なし"


@personal_data_view(LEDGER, subject_kind="handover", action="ledger.ledger_list", label="管理簿")
def ledger_list(request: HttpRequest, access) -> HttpResponse:
    form, flt = _filter(request, access)
    page = Paginator(ledger(flt), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/ledger_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "may_export": request.user.has_perm("audit.export_records"),
        },
    )


@personal_data_view(LEDGER, subject_kind="handover", action="ledger.ledger_detail", label="管理簿の詳細")
def ledger_detail(request: HttpRequest, access, handover_id: int) -> HttpResponse:
    record = get_object_or_404(HandoverRecord.objects.select_related("handler"), pk=handover_id)
    access.conditions = {"handover_id": record.pk}
    return render(
        request,
        "audit/ledger_detail.html",
        {
            "record": record,
            "downloadable": record.kind in DOWNLOADABLE and request.user.has_perm("audit.export_records"),
        },
    )


@personal_data_view(LEDGER, subject_kind="handover", action="ledger.ledger_print", label="管理簿の印刷")
def ledger_print(request: HttpRequest, access) -> HttpResponse:
    form, flt = _filter(request, access)
    rows = list(ledger(flt).order_by("created_at", "pk")[: PRINT_LIMIT + 1])
    access.conditions["print"] = True
    return render(
        request,
        "audit/ledger_print.html",
        {
            "form": form,
            "rows": rows[:PRINT_LIMIT],
            "truncated": len(rows) > PRINT_LIMIT,
            "limit": PRINT_LIMIT,
            "description": _describe(flt),
            "printed_at": timezone.localtime(),
            "total_rows": sum(r.row_count for r in rows[:PRINT_LIMIT]),
        },
    )
