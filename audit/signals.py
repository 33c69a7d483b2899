"""Logins, failed logins, lockouts and logouts go into the audit chain (category `account`): the ward paper asks for
ID/password authentication whose use is logged and analysed. The typed username is kept (a failed login may name a
user that does not exist); the typed password never is — Django hands receivers only cleansed credentials, and
only the username is read from them.

One entry per event: a failed attempt is `login_failed` (with `locked: true` when the ID was already locked and the
password was not even checked); the failure that reaches the limit also writes `locked_out`; a session that the
accounts middleware ends writes `idle_timeout`, `session_expired` or `session_revoked` instead of `logout`."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .log import record_account_event
from .models import AuditLogEntry

# Set by the accounts app on the request: why the session ends (idle_timeout, session_expired, session_revoked), and
# whether the lockout backend refused the attempt without checking the password.
ENDING_REASON = "accounts_ending"
LOCKED_FLAG = "accounts_locked"


@receiver(user_logged_in, dispatch_uid="audit_login")
def log_login(sender, request, user, **kwargs) -> None:
    record_account_event("login", user=user, request=request)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def log_logout(sender, request, user, **kwargs) -> None:
    if user is None:  # logging out without a session: nothing happened
        return
    action = getattr(request, ENDING_REASON, None) or "logout"
    record_account_event(action, user=user, request=request)


def _typed_username(credentials: dict) -> str:
    return str(credentials.get(get_user_model().USERNAME_FIELD, "") or credentials.get("username", ""))


def _log_lockout(request, username: str) -> None:
    record_account_event(
        "locked_out",
        username=username,
        request=request,
        outcome=AuditLogEntry.Outcome.DENIED,
        details={"failures": settings.ACCOUNT_LOCKOUT_FAILURES, "minutes": settings.ACCOUNT_LOCKOUT_MINUTES},
    )


# The failure that reaches the limit is logged before the lockout it causes, whichever receiver Django calls first
# (django-axes connects its own receivers when its modules are imported): the two flags below on the request.
FAILURE_LOGGED = "_audit_failure_logged"
LOCKOUT_PENDING = "_audit_lockout_pending"


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def log_login_failed(sender, credentials, request=None, **kwargs) -> None:
    locked = bool(getattr(request, LOCKED_FLAG, False))
    username = _typed_username(credentials)
    record_account_event(
        "login_failed",
        username=username,
        request=request,
        outcome=AuditLogEntry.Outcome.DENIED,
        details={"locked": True} if locked else {},
    )
    if request is None:
        return
    setattr(request, FAILURE_LOGGED, True)
    if getattr(request, LOCKOUT_PENDING, None) is not None:
        _log_lockout(request, getattr(request, LOCKOUT_PENDING))


from axes.signals import user_locked_out  # noqa: E402 - beside its receiver


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def log_locked_out(sender, request=None, username=None, **kwargs) -> None:
    if getattr(request, LOCKED_FLAG, False):  # already locked: the attempt is logged as login_failed only
        return
    if request is not None and not getattr(request, FAILURE_LOGGED, False):
        setattr(request, LOCKOUT_PENDING, str(username or ""))
        return
    _log_lockout(request, str(username or ""))
