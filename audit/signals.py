"""Logins, failed logins and logouts go into the audit chain (category `access`): the ward paper asks for
ID/password authentication whose use is logged and analysed. The typed username is kept (a failed login may name a
user that does not exist); the typed password never is — Django hands receivers only cleansed credentials, and
only the username is read from them."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from common.context import current

from . import chain
from .log import client_ip, session_hash
from .models import AuditLogEntry


def _write(action: str, outcome: str, *, request, user=None, username: str = "") -> None:
    ctx = current()
    chain.append(
        category=AuditLogEntry.Category.ACCESS,
        action=action,
        outcome=outcome,
        user=user if user is not None and user.pk is not None else None,
        username=(user.get_username() if user is not None else username)[:150],
        remote_addr=client_ip(request),
        session_hash=session_hash(request),
        request_id=getattr(request, "request_id", "") or (ctx.request_id if ctx else ""),
        method=getattr(request, "method", "") or "",
        path=(getattr(request, "path", "") or "")[:500],
        subject_kind="",
        subject_ids=[],
        conditions={},
    )


@receiver(user_logged_in, dispatch_uid="audit_login")
def log_login(sender, request, user, **kwargs) -> None:
    _write("login", AuditLogEntry.Outcome.DONE, request=request, user=user)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def log_logout(sender, request, user, **kwargs) -> None:
    if user is None:  # logging out without a session: nothing happened
        return
    _write("logout", AuditLogEntry.Outcome.DONE, request=request, user=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def log_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get(get_user_model().USERNAME_FIELD, "") or credentials.get("username", ""))
    _write("login_failed", AuditLogEntry.Outcome.DENIED, request=request, username=username)
