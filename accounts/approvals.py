"""Two people for the dangerous acts, so that one supervisor cannot take over another: a 個別許可 on a restricted
person, and the reset of another supervisor's password or second factor, are requested by one supervisor and take effect
only when a second supervisor approves.

Rules, checked here and nowhere else:
- making someone a supervisor is a request too: otherwise one supervisor could create a second supervisor account
  whose password they know and approve their own requests with it. Only an account whose holder has replaced the
  initial password and enrolled an authenticator can be proposed (the creator of the account no longer holds it);
- nobody approves their own request, nor one that concerns themselves (the grantee, the account being reset);
- the approver holds the permission of the act (`audit.manage_restriction` for a grant, `accounts.manage_users` for
  a reset); a request not decided within APPROVAL_HOURS expires;
- a grant request creates no AccessGrant and no guardian permission: `audit.restrictions.grant` runs only in
  `approve`, with the approver as actor;
- no secret is ever shown to a supervisor: an approved password reset makes the old password unusable and lets the
  holder choose a new one with a code from their own authenticator (`complete_password_reset`, on the login page),
  so it cannot be asked while the account has no authenticator, nor together with an open TOTP reset; an approved
  TOTP reset removes the authenticator and the holder enrols a new one at their next login with their own password.

Every request, approval, refusal, expiry and refused attempt is one audit chain entry (a grant's under the
permission category with the person as subject; a reset's under the account category with the account as subject).
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit import restrictions
from audit.log import record_account_event, record_permission_event
from audit.models import AuditLogEntry
from common.errors import ServiceError
from common.roles import SUPERVISOR, assign_role, ensure_roles
from koseki_fuhyo.models import FuhyoEntry
from registry.models import Resident

from . import sessions, totp
from .models import AccountState, ApprovalRequest

APPROVAL_HOURS = 24  # a request waits a working day for a second supervisor, then lapses
PASSWORD_RESET_HOURS = 24  # the holder sets a new password within a day of the approval
MANAGE_RESTRICTION = "audit.manage_restriction"
MANAGE_USERS = "accounts.manage_users"
SUPERVISOR_GROUP = "監督者"
Kind = ApprovalRequest.Kind
State = ApprovalRequest.State
PERMISSION_OF = {
    Kind.GRANT: MANAGE_RESTRICTION,
    Kind.RESET_PASSWORD: MANAGE_USERS,
    Kind.RESET_TOTP: MANAGE_USERS,
    Kind.ROLE_SUPERVISOR: MANAGE_USERS,
}


def needs_second_supervisor(actor, target) -> bool:
    """A reset of another supervisor's credentials waits for a second supervisor (a clerk's does not)."""
    return actor.pk != target.pk and target.groups.filter(name=SUPERVISOR_GROUP).exists()


# --- Audit entries ----------------------------------------------------------------------------------------------


def _log(
    approval: ApprovalRequest, action: str, actor, request: HttpRequest | None, *, denied: bool = False, **details
) -> None:
    details = {"approval_id": approval.pk, "kind": approval.kind, "requested_by": approval.requested_by_id, **details}
    if approval.kind == Kind.GRANT and not denied:
        payload = approval.payload
        is_resident = payload.get("resident_id") is not None
        record_permission_event(
            action,
            actor=actor,
            subject_kind="resident" if is_resident else "fuhyo_entry",
            subject_ids=[payload["resident_id"] if is_resident else payload["fuhyo_entry_id"]],
            details={**details, "user_id": approval.target_user_id},
            request=request,
        )
        return
    # Resets, and every refused attempt (a staff member's act that did not take place), are account events.
    record_account_event(
        action,
        user=actor,
        request=request,
        subject_ids=[approval.target_user_id],
        outcome=AuditLogEntry.Outcome.DENIED if denied else AuditLogEntry.Outcome.DONE,
        details={**details, "target_user_id": approval.target_user_id},
    )


# --- Requests ---------------------------------------------------------------------------------------------------


def _new(kind: str, *, actor, target, reason: str, payload: dict | None = None) -> ApprovalRequest:
    now = timezone.now()
    return ApprovalRequest.objects.create(
        kind=kind,
        requested_by=actor,
        requested_at=now,
        reason=reason.strip(),
        target_user=target,
        payload=payload or {},
        expires_at=now + dt.timedelta(hours=APPROVAL_HOURS),
    )


@transaction.atomic
def request_grant(
    *,
    actor,
    user,
    reason: str,
    expires_at: dt.datetime,
    resident=None,
    fuhyo_entry=None,
    restriction_id: int | None = None,
    request: HttpRequest | None = None,
) -> ApprovalRequest:
    """Ask for a 個別許可: checked now, granted only when another supervisor approves."""
    restrictions.validate_grant(
        actor=actor, user=user, reason=reason, expires_at=expires_at, resident=resident, fuhyo_entry=fuhyo_entry
    )
    approval = _new(
        Kind.GRANT,
        actor=actor,
        target=user,
        reason=reason,
        payload={
            "resident_id": resident.pk if resident is not None else None,
            "fuhyo_entry_id": fuhyo_entry.pk if fuhyo_entry is not None else None,
            "restriction_id": restriction_id,
            "grant_expires_at": expires_at.isoformat(),
        },
    )
    _log(approval, "grant_requested", actor, request, grant_expires_at=expires_at.isoformat())
    return approval


def _open_request(target, kind: str):
    return ApprovalRequest.objects.filter(
        target_user=target, kind=kind, state=State.PENDING, expires_at__gt=timezone.now()
    )


def _reset_blocked(target, kind: str) -> str | None:
    """Why a reset of `target` cannot be asked or approved now (None: it can)."""
    if kind == Kind.RESET_PASSWORD and totp.confirmed_device(target) is None:
        return (
            "二段階認証が登録されていない監督者のパスワードは再設定できません（本人が自分の認証アプリで新しい"
            "パスワードを決めるため）。アカウントを利用停止にし、新しいアカウントを作成してください。"
        )
    if kind == Kind.RESET_TOTP and pending_password_reset(target):
        return "パスワードの再設定が完了していません。本人が新しいパスワードを決めてから申請してください。"
    other = Kind.RESET_TOTP if kind == Kind.RESET_PASSWORD else Kind.RESET_PASSWORD
    if _open_request(target, other).exists():
        return "パスワードと二段階認証を同時に再設定することはできません。一方が終わってから申請してください。"
    return None


@transaction.atomic
def request_reset(kind: str, *, actor, target, reason: str = "", request: HttpRequest | None = None):
    """Ask for the reset of another supervisor's password or second factor."""
    if kind not in (Kind.RESET_PASSWORD, Kind.RESET_TOTP):
        raise ValueError(kind)
    if target.is_superuser:
        raise ServiceError("管理者（superuser）のアカウントはこの画面では変更できません。")
    if actor.pk == target.pk:
        raise ServiceError("自分自身のアカウントにはこの操作はできません。")
    if _open_request(target, kind).exists():
        raise ServiceError("同じ申請がすでに承認待ちです。承認待ちの一覧を確かめてください。")
    blocked = _reset_blocked(target, kind)
    if blocked:
        raise ServiceError(blocked)
    approval = _new(kind, actor=actor, target=target, reason=reason or ApprovalRequest.Kind(kind).label)
    _log(approval, "reset_requested", actor, request, target_username=target.get_username())
    return approval


def _role_blocked(target) -> str | None:
    if not target.is_active:
        return "利用停止中のアカウントは監督者にできません。"
    if target.groups.filter(name=SUPERVISOR_GROUP).exists():
        return "この職員はすでに監督者です。"
    state = AccountState.objects.filter(user=target).first()
    if state is not None and state.must_change_password:
        return "本人が初期パスワードを変更していません。本人が変更してから申請してください。"
    if totp.confirmed_device(target) is None:
        return "本人が二段階認証を登録していません。本人が登録してから申請してください。"
    return None


@transaction.atomic
def request_supervisor_role(*, actor, target, reason: str = "", request: HttpRequest | None = None):
    """Ask for `target` to become a supervisor."""
    if target.is_superuser:
        raise ServiceError("管理者（superuser）のアカウントはこの画面では変更できません。")
    if actor.pk == target.pk:
        raise ServiceError("自分自身のアカウントにはこの操作はできません。")
    if _open_request(target, Kind.ROLE_SUPERVISOR).exists():
        raise ServiceError("同じ申請がすでに承認待ちです。承認待ちの一覧を確かめてください。")
    blocked = _role_blocked(target)
    if blocked:
        raise ServiceError(blocked)
    approval = _new(Kind.ROLE_SUPERVISOR, actor=actor, target=target, reason=reason or Kind.ROLE_SUPERVISOR.label)
    _log(approval, "role_requested", actor, request, target_username=target.get_username())
    return approval


# --- Decisions --------------------------------------------------------------------------------------------------


APPROVED_ACTION = {
    Kind.GRANT: "grant_approved",
    Kind.RESET_PASSWORD: "reset_approved",
    Kind.RESET_TOTP: "reset_approved",
    Kind.ROLE_SUPERVISOR: "role_approved",
}
REFUSED_ACTION = {
    Kind.GRANT: "grant_refused",
    Kind.RESET_PASSWORD: "reset_refused",
    Kind.RESET_TOTP: "reset_refused",
    Kind.ROLE_SUPERVISOR: "role_refused",
}


@dataclass(frozen=True)
class Decision:
    approval: ApprovalRequest
    result: object = None  # the AccessGrant of an approved grant


def _refusal_reason(approval: ApprovalRequest, actor) -> str | None:
    if approval.requested_by_id == actor.pk:
        return "自分の申請は承認できません。別の監督者の承認が必要です。"
    if approval.target_user_id == actor.pk:
        return "自分に関わる申請（自分への個別許可・自分のアカウントの再設定）は承認できません。"
    if not actor.has_perm(PERMISSION_OF[approval.kind]):
        return "この申請を承認する権限がありません。"
    return None


def _lapse_if_expired(approval: ApprovalRequest) -> bool:
    if approval.state == State.PENDING and approval.expires_at <= timezone.now():
        with transaction.atomic():
            won = ApprovalRequest.objects.filter(pk=approval.pk, state=State.PENDING).update(state=State.EXPIRED)
            if won:
                approval.state = State.EXPIRED
                _log(approval, "approval_expired", None, None)
        return True
    return False


def approve(approval: ApprovalRequest, *, actor, note: str = "", request: HttpRequest | None = None) -> Decision:
    """The second supervisor's approval: the act takes effect now, in one transaction with the decision."""
    approval = ApprovalRequest.objects.get(pk=approval.pk)
    refusal = _refusal_reason(approval, actor)
    if refusal:
        # Logged outside any transaction of the caller's failure: the attempt itself is evidence.
        _log(approval, "approval_refused_attempt", actor, request, denied=True, why=refusal)
        raise ServiceError(refusal, code="not_allowed")
    if _lapse_if_expired(approval):
        raise ServiceError("この申請は承認の期限を過ぎました。必要ならもう一度申請してください。", code="expired")
    with transaction.atomic():
        # Claim the request; whoever changes zero rows lost the race with another decision.
        now = timezone.now()
        won = ApprovalRequest.objects.filter(pk=approval.pk, state=State.PENDING).update(
            state=State.APPROVED, decided_by=actor, decided_at=now, decision_note=note.strip()
        )
        if won != 1:
            raise ServiceError("この申請はすでに処理されています。", code="decided")
        approval.refresh_from_db()
        result = _carry_out(approval, actor, request)
        if result is not None:
            approval.result_id = result.pk
            approval.save(update_fields=["result_id"])
        _log(
            approval,
            APPROVED_ACTION[approval.kind],
            actor,
            request,
            result_id=approval.result_id,
        )
    return Decision(approval, result)


def _carry_out(approval: ApprovalRequest, actor, request: HttpRequest | None):
    target = approval.target_user
    if approval.kind == Kind.GRANT:
        payload = approval.payload
        resident = Resident.objects.get(pk=payload["resident_id"]) if payload.get("resident_id") else None
        entry = FuhyoEntry.objects.get(pk=payload["fuhyo_entry_id"]) if payload.get("fuhyo_entry_id") else None
        if approval.requested_by_id == approval.target_user_id:
            raise ServiceError("自分自身への個別許可は承認できません。")
        return restrictions.grant(
            actor=actor,
            user=target,
            reason=approval.reason,
            expires_at=dt.datetime.fromisoformat(payload["grant_expires_at"]),
            resident=resident,
            fuhyo_entry=entry,
            request=request,
        )
    if approval.kind == Kind.ROLE_SUPERVISOR:
        blocked = _role_blocked(target)
        if blocked:
            raise ServiceError(blocked)
        assign_role(target, SUPERVISOR, ensure_roles())
        return None
    blocked = _reset_blocked(target, approval.kind)
    if blocked:
        raise ServiceError(blocked)
    if approval.kind == Kind.RESET_TOTP:
        totp.remove_all(target)
    else:
        target.set_unusable_password()
        target.save(update_fields=["password"])
        AccountState.objects.update_or_create(
            user=target,
            defaults={"password_reset_until": timezone.now() + dt.timedelta(hours=PASSWORD_RESET_HOURS)},
        )
    sessions.end_all_for(target)
    restrictions.revoke_all_of(target, actor=actor, reason=f"{approval.get_kind_display()}により取消", request=request)
    return None


@transaction.atomic
def refuse(approval: ApprovalRequest, *, actor, note: str, request: HttpRequest | None = None) -> ApprovalRequest:
    """A supervisor refuses a request (the requester may withdraw their own). Nothing takes effect."""
    if not note.strip():
        raise ServiceError({"note": ["却下の理由を入力してください。"]})
    if not actor.has_perm(PERMISSION_OF[approval.kind]):
        raise ServiceError("この申請を却下する権限がありません。")
    won = ApprovalRequest.objects.filter(pk=approval.pk, state=State.PENDING).update(
        state=State.REFUSED, decided_by=actor, decided_at=timezone.now(), decision_note=note.strip()
    )
    if won != 1:
        raise ServiceError("この申請はすでに処理されています。", code="decided")
    approval.refresh_from_db()
    _log(approval, REFUSED_ACTION[approval.kind], actor, request)
    return approval


def expire_stale() -> int:
    """Pending requests past their deadline become 期限切れ (each one entry); returns how many."""
    count = 0
    for approval in ApprovalRequest.objects.filter(state=State.PENDING, expires_at__lte=timezone.now()):
        count += _lapse_if_expired(approval)
    return count


def pending():
    expire_stale()
    return ApprovalRequest.objects.filter(state=State.PENDING).select_related("requested_by", "target_user")


# --- The holder completes an approved password reset ----------------------------------------------------------


def pending_password_reset(user) -> bool:
    return AccountState.objects.filter(user=user, password_reset_until__gt=timezone.now()).exists()


class ResetRefused(Exception):
    """The 職員ID, the code or the state of the account does not allow the reset (one message for every case)."""


def complete_password_reset(
    username: str, token: str, new_password: str, *, request: HttpRequest | None = None
) -> None:
    """The holder of an approved password reset chooses a new password, proving who they are with a code of their
    own authenticator. Unknown 職員ID, no approved reset, a wrong code: the same ResetRefused.

    The code is checked outside the write's transaction, so that django-otp's throttling of failed codes is kept
    (a rolled-back failure would let codes be guessed without limit)."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None or not pending_password_reset(user):
        raise ResetRefused
    validate_password(new_password, user)  # before the code is used up
    if totp.verify(user, token) is None:
        raise ResetRefused
    with transaction.atomic():
        state = AccountState.objects.select_for_update().get(user=user)
        if state.password_reset_until is None or state.password_reset_until <= timezone.now():
            raise ResetRefused  # completed or lapsed meanwhile
        user.set_password(new_password)
        user.save(update_fields=["password"])
        state.password_reset_until = None
        state.must_change_password = False
        state.password_changed_at = timezone.now()
        state.save(update_fields=["password_reset_until", "must_change_password", "password_changed_at"])
        sessions.end_all_for(user)
        record_account_event("password_reset_completed", user=user, request=request, subject_ids=[user.pk])


def log_refused_completion(username: str, request: HttpRequest | None) -> None:
    record_account_event(
        "password_reset_refused", username=username, request=request, outcome=AuditLogEntry.Outcome.DENIED
    )
