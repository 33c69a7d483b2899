"""Writing audit entries for requests and for permission events. Never logs names or addresses: record ids, and for
searches the conditions the clerk typed (which the access-log requirement asks for)."""

import hashlib
from typing import Any

from django.http import HttpRequest

from common.context import current

from . import chain
from .models import AuditLogEntry


def session_hash(request: HttpRequest | None) -> str:
    key = getattr(getattr(request, "session", None), "session_key", None) if request is not None else None
    return hashlib.sha256(key.encode()).hexdigest() if key else ""


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record_access(
    request: HttpRequest,
    action: str,
    outcome: str,
    *,
    subject_kind: str = "",
    subject_ids: list[int] | None = None,
    conditions: dict[str, Any] | None = None,
) -> AuditLogEntry:
    """One `access` entry for this request."""
    user = request.user if request.user.is_authenticated else None
    return chain.append(
        category=AuditLogEntry.Category.ACCESS,
        action=action,
        outcome=outcome,
        user=user,
        username=user.get_username() if user else "",
        remote_addr=client_ip(request),
        session_hash=session_hash(request),
        request_id=getattr(request, "request_id", "") or (current().request_id if current() else ""),
        method=request.method or "",
        path=request.path[:500],
        subject_kind=subject_kind,
        subject_ids=sorted(set(subject_ids or [])),
        conditions=conditions or {},
    )


def record_permission_event(
    action: str,
    *,
    actor,
    subject_kind: str,
    subject_ids: list[int],
    details: dict[str, Any],
    request: HttpRequest | None = None,
) -> AuditLogEntry:
    """grant / revoke / use / restrict / lift / expire: who, for which person, why."""
    ctx = current()
    return chain.append(
        category=AuditLogEntry.Category.PERMISSION,
        action=action,
        outcome=AuditLogEntry.Outcome.DONE,
        user=actor,
        username=actor.get_username() if actor else "",
        remote_addr=client_ip(request),
        session_hash=session_hash(request),
        request_id=ctx.request_id if ctx else "",
        method=request.method if request is not None else "",
        path=request.path[:500] if request is not None else "",
        subject_kind=subject_kind,
        subject_ids=subject_ids,
        conditions=details,
    )


def record_transmission(
    action: str,
    *,
    message_id: str,
    kind: str,
    partner: str,
    digest: str = "",
    outcome: str = AuditLogEntry.Outcome.DONE,
    actor=None,
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditLogEntry:
    """sent / acknowledged / rejected / retried / failed / resent / received / applied / waiting / resolved.

    Who caused it (the clerk of the change, or the system when `actor` is None), the message id, the partner, the
    SHA-256 of the payload, never the payload itself. `details` may carry error codes and counts, not personal data."""
    ctx = current()
    return chain.append(
        category=AuditLogEntry.Category.TRANSMISSION,
        action=action,
        outcome=outcome,
        user=actor,
        username=actor.get_username() if actor else "",
        remote_addr=client_ip(request),
        session_hash=session_hash(request),
        request_id=ctx.request_id if ctx else "",
        method=request.method if request is not None else "",
        path=request.path[:500] if request is not None else "",
        subject_kind="notice",
        subject_ids=[],
        conditions={
            "message_id": str(message_id),
            "kind": kind,
            "partner": partner,
            "digest": digest,
            **(details or {}),
        },
    )


def record_account_event(
    action: str,
    *,
    user=None,
    username: str = "",
    request: HttpRequest | None = None,
    outcome: str = AuditLogEntry.Outcome.DONE,
    details: dict[str, Any] | None = None,
    subject_ids: list[int] | None = None,
) -> AuditLogEntry:
    """login / logout / login_failed / locked_out / idle_timeout / session_expired / session_revoked / otp_* /
    user_* (category `account`). `user` is the actor (None for an anonymous attempt; `username` then holds what was
    typed); the target of a supervisor's action goes into `subject_ids` (a user id) and `details` says what
    changed — never a password, a TOTP secret or a code."""
    ctx = current()
    if user is not None and getattr(user, "pk", None) is None:
        username = username or user.get_username()
        user = None
    return chain.append(
        category=AuditLogEntry.Category.ACCOUNT,
        action=action,
        outcome=outcome,
        user=user,
        username=(user.get_username() if user is not None else username or "")[:150],
        remote_addr=client_ip(request),
        session_hash=session_hash(request),
        request_id=getattr(request, "request_id", "") or (ctx.request_id if ctx else ""),
        method=getattr(request, "method", "") or "",
        path=(getattr(request, "path", "") or "")[:500],
        subject_kind="user" if subject_ids else "",
        subject_ids=sorted(set(subject_ids or [])),
        conditions=details or {},
    )
