"""承認待ちの申請: the second supervisor's screens (two people for the dangerous acts). A list of the requests that
wait, and one request with 承認 / 却下 through a 確認 page and a one-time token. A grant request names a restricted
person, so these pages go through the gate (supervisors hold both permissions) and name the person in the access entry;
no page ever shows a password or a secret."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from audit.forms import record_label
from audit.gate import personal_data_view
from audit.views import once
from common.errors import ServiceError

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
    from koseki_fuhyo.models import FuhyoEntry
    from registry.models import Resident

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


@personal_data_view(*PERMISSIONS, subject_kind="approval", action="views_approvals.approval_detail", label="申請の承認")
@require_http_methods(["GET", "POST"])
def approval_detail(request: HttpRequest, access, approval_id: int) -> HttpResponse:
    approval = get_object_or_404(
        ApprovalRequest.objects.select_related("requested_by", "target_user", "decided_by"), pk=approval_id
    )
    row = _row(access, approval, request.user)
    form = DecisionForm(request.POST if request.method == "POST" else None)
    context = {**row, "form": form, "reset_hours": approvals.PASSWORD_RESET_HOURS}
    step = request.POST.get("step", "") if request.method == "POST" else ""
    if approval.state != ApprovalRequest.State.PENDING or request.method == "GET" or "back" in request.POST:
        return render(request, "accounts/approval_detail.html", context)
    if not form.is_valid():
        return render(request, "accounts/approval_detail.html", context, status=400)
    if step != "commit":
        return render(request, "accounts/approval_confirm.html", {**context, "token": once.issue(request)})
    if not once.consume(request, request.POST.get("token", "")):
        messages.warning(request, "この操作はすでに処理されています（二重送信）。結果を一覧で確かめてください。")
        return redirect("accounts:approvals")
    try:
        if form.cleaned_data["decision"] == "approve":
            approvals.approve(approval, actor=request.user, note=form.cleaned_data["note"], request=request)
            messages.success(request, f"申請 #{approval.pk}（{approval.get_kind_display()}）を承認しました。")
        else:
            approvals.refuse(approval, actor=request.user, note=form.cleaned_data["note"], request=request)
            messages.success(request, f"申請 #{approval.pk}（{approval.get_kind_display()}）を却下しました。")
    except ServiceError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("accounts:approval", approval_id=approval.pk)
    return redirect("accounts:approvals")
