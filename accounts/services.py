"""A supervisor's actions on staff accounts. Each writes one audit entry (category `account`: the actor, the target
user's id in subject_ids, what changed) — never a password, a secret or a code.

Guards: superusers are not managed here (a supervisor could otherwise take one over by resetting its password), and
a supervisor cannot disable their own account or change their own role (so the last supervisor cannot lock the ward
out of this screen by mistake)."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.log import record_account_event
from audit.restrictions import revoke_all_of
from common.roles import ROLES, ROLES_BY_KEY, SUPERVISOR, Role, assign_role, ensure_roles

from . import approvals, lockout, sessions, totp
from .models import AccountState

# No 0/O, 1/l/I: an initial password is read from the screen and typed by someone else.
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105 - an alphabet


class ManageError(Exception):
    """An action the screen refuses, with the reason in Japanese."""


@dataclass(frozen=True)
class Created:
    user: object
    initial_password: str  # shown once on the result page, never stored in clear or logged


def generate_password(user=None) -> str:
    """16 random characters in four groups, checked against AUTH_PASSWORD_VALIDATORS."""
    while True:
        raw = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(16))
        password = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
        try:
            validate_password(password, user)
        except ValidationError:
            continue
        return password


def role_of(user) -> Role | None:
    names = set(user.groups.values_list("name", flat=True))
    return next((role for role in ROLES if role.group_name in names), None)


def _guard(actor, target, *, self_allowed: bool = False) -> None:
    if target.is_superuser:
        raise ManageError("管理者（superuser）のアカウントはこの画面では変更できません。")
    if not self_allowed and actor.pk == target.pk:
        raise ManageError("自分自身のアカウントにはこの操作はできません。")


def _log(action: str, actor, target, request: HttpRequest | None, **details) -> None:
    record_account_event(
        action,
        user=actor,
        request=request,
        subject_ids=[target.pk],
        details={"target_user_id": target.pk, "target_username": target.get_username(), **details},
    )


def _single_supervisor_allowed(actor, target) -> None:
    """Another supervisor's credentials are reset only through a request that a second supervisor approves
    (accounts.approvals): one supervisor must never be able to take over another."""
    if approvals.needs_second_supervisor(actor, target):
        raise ManageError(
            "他の監督者のパスワード・二段階認証の再設定は、別の監督者の承認が必要です。申請してください。"
        )


def _end_grants(actor, target, request: HttpRequest | None, what: str) -> int:
    """A reset by someone else ends the target's 個別許可: the one who reset the password (and was shown it) must
    not be able to sign in as the target and use a grant approved for the target."""
    return revoke_all_of(target, actor=actor, reason=f"{what}により取消", request=request)


def _force_change(user) -> None:
    AccountState.objects.update_or_create(user=user, defaults={"must_change_password": True})


@transaction.atomic
def create_user(
    actor, *, username: str, last_name: str, first_name: str, role_key: str, request: HttpRequest | None = None
) -> Created:
    role = ROLES_BY_KEY[role_key]
    if role == SUPERVISOR:
        raise ManageError(
            "監督者のアカウントは直接作成できません。他の役割で作成し、本人が初期パスワードの変更と二段階認証の"
            "登録を済ませてから、監督者への役割変更を申請してください（別の監督者の承認が必要です）。"
        )
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise ManageError("その職員IDはすでに使われています。")
    user = user_model(username=username, last_name=last_name, first_name=first_name, is_active=True)
    password = generate_password(user)
    user.set_password(password)
    user.save()
    assign_role(user, role, ensure_roles())
    _force_change(user)
    _log("user_created", actor, user, request, role=role.key, must_change_password=True)
    return Created(user, password)


@transaction.atomic
def set_active(actor, target, active: bool, *, request: HttpRequest | None = None) -> int:
    """Enable or disable; disabling ends every session of the user (returns how many were ended)."""
    _guard(actor, target)
    if target.is_active == active:
        return 0
    ended = 0 if active else sessions.active_count(target)
    target.is_active = active
    target.save(update_fields=["is_active"])  # the post_save receiver ends the sessions of a disabled user
    details = {"is_active": active} if active else {"is_active": active, "sessions_ended": ended}
    _log("user_enabled" if active else "user_disabled", actor, target, request, **details)
    return ended


@transaction.atomic
def set_role(actor, target, role_key: str, *, request: HttpRequest | None = None) -> None:
    _guard(actor, target)
    role = ROLES_BY_KEY[role_key]
    before = role_of(target)
    if before == role:
        return
    if role == SUPERVISOR:
        raise ManageError("監督者への役割変更は、別の監督者の承認が必要です。申請してください。")
    assign_role(target, role, ensure_roles())
    _log("role_changed", actor, target, request, before=before.key if before else "", after=role.key)


@transaction.atomic
def reset_password(actor, target, *, request: HttpRequest | None = None) -> str:
    """A new initial password (returned to be shown once); the user must change it at the next login. Their open
    sessions end (a new password hash invalidates them; the rows go too), and so do their 個別許可. Not for
    another supervisor."""
    _guard(actor, target)
    _single_supervisor_allowed(actor, target)
    password = generate_password(target)
    target.set_password(password)
    target.save(update_fields=["password"])
    _force_change(target)
    sessions.end_all_for(target)
    revoked = _end_grants(actor, target, request, "パスワードの再設定")
    _log("password_reset", actor, target, request, must_change_password=True, grants_revoked=revoked)
    return password


@transaction.atomic
def reset_totp(actor, target, *, request: HttpRequest | None = None) -> int:
    """Remove the user's authenticator and backup codes (a lost phone); the next login enrols again. One's own, or
    a clerk's; another supervisor's only through a request."""
    _guard(actor, target, self_allowed=True)
    _single_supervisor_allowed(actor, target)
    removed = totp.remove_all(target)
    sessions.end_all_for(target)
    revoked = _end_grants(actor, target, request, "二段階認証の再設定") if actor.pk != target.pk else 0
    _log("totp_reset", actor, target, request, devices_removed=removed, grants_revoked=revoked)
    return removed


def lift_lockout(actor, username: str, *, request: HttpRequest | None = None) -> int:
    """Lift the lock of a 職員ID (which may name no account: unknown IDs are locked too)."""
    removed = lockout.lift(username)
    target = get_user_model().objects.filter(username=username).first()
    record_account_event(
        "lockout_lifted",
        user=actor,
        request=request,
        subject_ids=[target.pk] if target else [],
        details={"target_username": username, "attempt_records": removed},
    )
    return removed


@transaction.atomic
def password_changed(user, *, request: HttpRequest | None = None, forced: bool) -> None:
    """The user chose a new password (the change page): the pending change is done."""
    AccountState.objects.update_or_create(
        user=user, defaults={"must_change_password": False, "password_changed_at": timezone.now()}
    )
    record_account_event("password_changed", user=user, request=request, details={"forced": forced})
