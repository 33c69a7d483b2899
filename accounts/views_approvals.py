"""承認待ちの申請: the second supervisor's screens (two people for the dangerous acts). A list of the requests that
wait, and one request with 承認 / 却下 through a 確認 page and a one-time token (common.confirm.OneStepFlow). A grant
request names a restricted person, so these pages go through the gate (supervisors hold both permissions) and name
the person in the access entry; no page ever shows a password or a secret."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from audit.forms import record_label
from audit.gate import personal_data_view
from common.confirm import OneStepFlow
from koseki_fuhyo.models import FuhyoEntry
from registry.models import Resident, UsedSubmissionToken

from . import approvals
from .models import ApprovalRequest

PERMISSIONS = (approvals.MANAGE_USERS, approvals.MANAGE_RESTRICTION)
RECENT = 20  # decided requests shown under the pending ones


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="判断",
        choices=[("approve", "承認する"), ("refuse", "却下する")],
        widget=forms.RadioSelect,
        error_messages={"required": "承認するか却下するかを選んでください。"},
    )
    note = forms.CharField(
        label="所見（却下は必須）", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "refuse" and not (data.get("note") or "").strip():
            self.add_error("note", "却下の理由を入力してください。")
        return data


def _subject(approval: ApprovalRequest) -> dict:
    """What a grant request is about: the record (and the gate is told whom the page names)."""
    if approval.kind != ApprovalRequest.Kind.GRANT:
        return {}

    payload = approval.payload
    if payload.get("resident_id"):
        record = Resident.objects.filter(pk=payload["resident_id"]).first()
    else:
        record = FuhyoEntry.objects.filter(pk=payload.get("fuhyo_entry_id")).first()
    if record is None:
        return {}
    return {
        "record": record,
        "record_label": record_label(record),
        "grant_expires_at": payload.get("grant_expires_at", ""),
    }


def _show(access, approval: ApprovalRequest, subject: dict) -> None:
    record = subject.get("record")
    if record is None:
        return
    if record._meta.model_name == "resident":
        access.show(record)
    else:
        access.conditions.setdefault("fuhyo_entry_ids", []).append(record.pk)


def _row(access, approval: ApprovalRequest, user) -> dict:
    subject = _subject(approval)
    _show(access, approval, subject)
    return {
        "approval": approval,
        **subject,
        "own": approval.requested_by_id == user.pk,
        "concerns_me": approval.target_user_id == user.pk,
    }


@personal_data_view(
    *PERMISSIONS, subject_kind="approval", action="views_approvals.approval_list", label="承認待ちの申請"
)
def approval_list(request: HttpRequest, access) -> HttpResponse:
    waiting = list(approvals.pending().order_by("requested_at", "pk"))
    decided = list(
        ApprovalRequest.objects.exclude(state=ApprovalRequest.State.PENDING)
        .select_related("requested_by", "target_user", "decided_by")
        .order_by("-decided_at", "-pk")[:RECENT]
    )
    return render(
        request,
        "accounts/approval_list.html",
        {
            "waiting": [_row(access, a, request.user) for a in waiting],
            "decided": [_row(access, a, request.user) for a in decided],
            "approval_hours": approvals.APPROVAL_HOURS,
        },
    )


class DecisionFlow(OneStepFlow):
    purpose = "accounts:approval"
    form_template = "accounts/approval_detail.html"
    confirm_template = "accounts/approval_confirm.html"
    token_model = UsedSubmissionToken
    invalid_status = 400

    def load(self) -> None:
        self.approval = get_object_or_404(
            ApprovalRequest.objects.select_related("requested_by", "target_user", "decided_by"),
            pk=self.kwargs["approval_id"],
        )
        self.row = _row(self.access, self.approval, self.request.user)

    def context(self) -> dict:
        return {**self.row, "reset_hours": approvals.PASSWORD_RESET_HOURS}

    def blocked(self) -> str | None:
        return None if self.approval.state == ApprovalRequest.State.PENDING else ""  # the page says how it ended

    def build_form(self, data=None):
        return DecisionForm(data)

    def execute(self, form) -> str:
        decide, done = (
            (approvals.approve, "承認") if form.cleaned_data["decision"] == "approve" else (approvals.refuse, "却下")
        )
        decide(self.approval, actor=self.request.user, note=form.cleaned_data["note"], request=self.request)
        return done

    def done(self, result) -> str:
        return f"申請 #{self.approval.pk}（{self.approval.get_kind_display()}）を{result}しました。"

    def return_url(self) -> str:
        return reverse("accounts:approvals")

    def refuse(self, form, error: ValidationError):
        """A refusal (not allowed, expired, already decided) is told on the request's own page."""
        for message in error.messages:
            messages.error(self.request, message)
        return redirect("accounts:approval", approval_id=self.approval.pk)


@personal_data_view(*PERMISSIONS, subject_kind="approval", action="views_approvals.approval_detail", label="申請の承認")
@require_http_methods(["GET", "POST"])
def approval_detail(request: HttpRequest, access, approval_id: int) -> HttpResponse:
    return DecisionFlow(request, access, approval_id=approval_id).handle()
