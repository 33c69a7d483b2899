"""分析で見つかった事項: the flags of analyze_access_logs, filtered by day, kind, clerk and review state, and the
supervisor's review of one flag (a required comment, a 確認 page, one `flag_reviewed` entry in the chain)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from common.confirm import OneStepFlow
from registry.models import UsedSubmissionToken

from .. import flag_review
from ..forms_review import FlagFilterForm, FlagReviewForm
from ..gate import personal_data_view
from ..models import AnalysisFlag

VIEW_FLAGS = "audit.view_analysisflag"
REVIEW_FLAGS = "audit.review_analysisflag"
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
        query["before"] = flags[-1].pk
        next_query = query.urlencode()
    return render(
        request,
        "audit/flags_list.html",
        {"form": form, "flags": flags, "next_query": next_query, "paged": bool(before_id)},
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


@personal_data_view(
    VIEW_FLAGS, REVIEW_FLAGS, subject_kind="analysis_flag", action="flags.flag_review_view", label="事項の確認"
)
@require_http_methods(["GET", "POST"])
def flag_review_view(request: HttpRequest, access, flag_id: int) -> HttpResponse:
    return FlagReviewFlow(request, access, flag_id=flag_id).handle()
