"""消去の記録 (audit:erasures) and the printable 消去報告書 of one purge run (audit:erasure_report): what the
retention rules removed, under which rule, how many, when, by which run, with the SHA-256 over the ids removed.
No personal data: the records name targets and counts only."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from ..gate import personal_data_view
from ..models import BatchRun, ErasureRecord

PERMISSION = "audit.view_erasurerecord"
PURGE_COMMAND = "purge_expired"
PAGE_SIZE = 100


def started_by(run: BatchRun) -> str:
    if run.actor_id:
        return run.actor.get_username()
    return "夜間バッチ（Celery beat）" if run.source == "task" else "コマンド（manage.py）"


@personal_data_view(PERMISSION, subject_kind="erasure", action="erasure.erasure_list", label="消去の記録")
def erasure_list(request: HttpRequest, access) -> HttpResponse:
    records = list(
        ErasureRecord.objects.select_related("run", "run__actor").order_by("-performed_at", "-id")[:PAGE_SIZE]
    )
    runs = (
        BatchRun.objects.filter(command=PURGE_COMMAND, dry_run=False)
        .select_related("actor")
        .order_by("-started_at")[:20]
    )
    return render(
        request,
        "audit/erasure_list.html",
        {
            "records": records,
            "runs": [{"run": r, "started_by": started_by(r), "erasures": r.erasures.count()} for r in runs],
            "page_size": PAGE_SIZE,
        },
    )


@personal_data_view(PERMISSION, subject_kind="erasure", action="erasure.erasure_report", label="消去報告書")
def erasure_report(request: HttpRequest, access, run_id: int) -> HttpResponse:
    """消去報告書: A4, printed from the browser (print stylesheet)."""
    run = get_object_or_404(BatchRun.objects.select_related("actor"), pk=run_id, command=PURGE_COMMAND)
    access.conditions = {"run_id": run.pk}
    records = list(run.erasures.order_by("id"))
    return render(
        request,
        "audit/erasure_report.html",
        {
            "run": run,
            "records": records,
            "total": sum(r.count for r in records),
            "started_by": started_by(run),
            "printed_at": timezone.localtime(),
            "printed_by": request.user.get_username(),
        },
    )
