"""バッチの実行記録 (audit:batch_runs): every run of the nightly batch, newest first, filtered by command and status;
failed runs stand out. For supervisors and operators (the run records hold no personal data: commands, counts and
summary lines only — the gate still logs who looked)."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..gate import personal_data_view
from ..models import BatchRun

PAGE_SIZE = 50


class RunFilterForm(forms.Form):
    command = forms.ChoiceField(label="コマンド", required=False)
    status = forms.ChoiceField(label="状態", required=False, choices=[("", "すべて"), *BatchRun.Status.choices])
    failed_only = forms.BooleanField(label="異常終了のみ", required=False)

    def __init__(self, *args, commands: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["command"].choices = [("", "すべて"), *((c, c) for c in commands)]


def _commands() -> list[str]:
    return sorted(BatchRun.objects.order_by().values_list("command", flat=True).distinct())


@personal_data_view(
    "audit.view_batchrun", subject_kind="batch_run", action="batch.batch_run_list", label="バッチの実行記録"
)
def batch_run_list(request: HttpRequest, access) -> HttpResponse:
    form = RunFilterForm(request.GET or None, commands=_commands())
    runs = BatchRun.objects.select_related("actor").order_by("-started_at", "-id")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        access.conditions = {k: v for k, v in data.items() if v}
        if data["command"]:
            runs = runs.filter(command=data["command"])
        if data["failed_only"]:
            runs = runs.filter(status=BatchRun.Status.FAILED)
        elif data["status"]:
            runs = runs.filter(status=data["status"])
    before = request.GET.get("before", "")
    if before.isdigit():
        runs = runs.filter(id__lt=int(before))
        access.conditions["before"] = int(before)
    page = list(runs[: PAGE_SIZE + 1])
    next_query = None
    if len(page) > PAGE_SIZE:
        page = page[:PAGE_SIZE]
        query = request.GET.copy()
        query["before"] = page[-1].pk
        next_query = query.urlencode()
    failed_recently = BatchRun.objects.filter(status=BatchRun.Status.FAILED).order_by("-started_at")[:1]
    return render(
        request,
        "audit/batch_runs.html",
        {
            "form": form,
            "runs": [{"run": r, "counts": sorted((r.counts or {}).items())} for r in page],
            "next_query": next_query,
            "last_failed": failed_recently[0] if failed_recently else None,
        },
    )
