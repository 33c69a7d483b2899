"""分析で見つかった事項: the flags of analyze_access_logs, filtered by day, kind, clerk and review state, with when
the analysis last ran; the supervisor's 「今すぐ分析」 (the nightly command itself, run now for today or yesterday);
and the supervisor's review of one flag (a required comment, a 確認 page, one `flag_reviewed` entry in the chain)."""

import datetime as dt
import io
import logging

from django.contrib import messages
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from common.batch import BatchExit
from common.confirm import OneStepFlow
from common.wareki import to_wareki_with_seireki
from registry.models import UsedSubmissionToken

from .. import flag_review
from ..forms_review import FlagFilterForm, FlagReviewForm
from ..gate import personal_data_view
from ..models import AnalysisFlag, BatchRun

VIEW_FLAGS = "audit.view_analysisflag"
REVIEW_FLAGS = "audit.review_analysisflag"
logger = logging.getLogger(__name__)
ANALYSIS_COMMAND = "analyze_access_logs"  # the nightly batch's command (config/celery.py), run as it is
ANALYSIS_DAYS = {"today": 0, "yesterday": 1}
PAGE_SIZE = 100
ALREADY_DONE = "この確認はすでに記録されています（二重送信）。"


@personal_data_view(VIEW_FLAGS, subject_kind="analysis_flag", action="flags.flag_list", label="分析で見つかった事項")
def flag_list(request: HttpRequest, access) -> HttpResponse:
    form = FlagFilterForm(request.GET or None)
    before = request.GET.get("before", "")
    before_id = int(before) if before.isdigit() else None
    flags: list[AnalysisFlag] = []
    more = False
    if form.is_bound:
        access.conditions = {k: v for k, v in request.GET.items() if v}
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        qs = AnalysisFlag.objects.select_related("reviewed_by")
        state = data.get("state") or "open"
        if state == "open":
            qs = qs.filter(reviewed_at__isnull=True)
        elif state == "reviewed":
            qs = qs.filter(reviewed_at__isnull=False)
        if data.get("analysed_on"):
            qs = qs.filter(analysed_on=data["analysed_on"])
        if data.get("kind"):
            qs = qs.filter(kind=data["kind"])
        if data.get("username"):
            qs = qs.filter(username=data["username"].strip())
        if before_id:
            qs = qs.filter(pk__lt=before_id)
        flags = list(qs.order_by("-pk")[: PAGE_SIZE + 1])
        more = len(flags) > PAGE_SIZE
        flags = flags[:PAGE_SIZE]
    next_query = None
    if more:
        query = request.GET.copy()
        query["before"] = str(flags[-1].pk)
        next_query = query.urlencode()
    return render(
        request,
        "audit/flags_list.html",
        {
            "form": form,
            "flags": flags,
            "next_query": next_query,
            "paged": bool(before_id),
            "last_run": last_analysis(),
        },
    )


class FlagReviewFlow(OneStepFlow):
    purpose = "audit:flag_review"
    form_template = "audit/flags_review.html"
    confirm_template = "audit/flags_confirm.html"
    token_model = UsedSubmissionToken
    already_done = ALREADY_DONE

    def load(self) -> None:
        self.flag = get_object_or_404(AnalysisFlag.objects.select_related("reviewed_by"), pk=self.kwargs["flag_id"])
        self.access.conditions = {"flag_id": self.flag.pk}

    def context(self) -> dict:
        return {"flag": self.flag}

    def blocked(self) -> str | None:
        return "この事項は確認済みです。" if self.flag.reviewed_at is not None else None

    def build_form(self, data=None):
        return FlagReviewForm(data)

    def execute(self, form) -> AnalysisFlag:
        comment = form.cleaned_data["comment"]
        flag_review.mark_reviewed(self.flag, actor=self.request.user, comment=comment, request=self.request)
        return self.flag

    def done(self, result) -> str:
        return f"事項 #{result.pk} を確認済みにしました。"

    def return_url(self) -> str:
        return reverse("audit:flags")


def last_analysis() -> BatchRun | None:
    """The newest run of the analysis that stored its findings (nightly or 今すぐ分析), or None before the first."""
    runs = BatchRun.objects.filter(command=ANALYSIS_COMMAND, dry_run=False).select_related("actor")
    return runs.order_by("-started_at", "-pk").first()


@personal_data_view(
    VIEW_FLAGS, REVIEW_FLAGS, subject_kind="analysis_flag", action="flags.run_analysis", label="今すぐ分析"
)
@require_POST
def run_analysis(request: HttpRequest, access) -> HttpResponse:
    """今すぐ分析: the nightly analysis (the same command, with its run record naming this supervisor) run now, for
    today so far or for yesterday; the access entry of this request records the day and the run."""
    which = request.POST.get("day", "today")
    day = timezone.localdate() - dt.timedelta(days=ANALYSIS_DAYS.get(which, 0))
    access.conditions = {"analysed_on": day.isoformat()}
    try:
        call_command(ANALYSIS_COMMAND, date=day.isoformat(), no_progress=True, stdout=io.StringIO())
    except BatchExit:
        pass  # the run record says what went wrong
    except Exception:  # a crash: its run record is failed (audit.batch); the supervisor gets a message, not a 500
        logger.exception("analysis now: %s crashed", ANALYSIS_COMMAND)
    run = last_analysis()
    access.conditions["batch_run_id"] = run.pk if run is not None else None
    day_text = to_wareki_with_seireki(day)
    if run is not None and run.status == BatchRun.Status.SUCCEEDED:
        messages.success(request, f"{day_text}の記録を分析しました。{run.summary}")
    else:
        messages.error(request, f"{day_text}の分析が異常終了しました。バッチの実行記録を確かめてください。")
    return redirect(f"{reverse('audit:flags')}?analysed_on={day.isoformat()}&state=all")


@personal_data_view(
    VIEW_FLAGS, REVIEW_FLAGS, subject_kind="analysis_flag", action="flags.flag_review_view", label="事項の確認"
)
@require_http_methods(["GET", "POST"])
def flag_review_view(request: HttpRequest, access, flag_id: int) -> HttpResponse:
    return FlagReviewFlow(request, access, flag_id=flag_id).handle()
