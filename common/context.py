"""The audit context: who is acting, through which request or job, and why.

Entered by the web middleware, by Celery tasks and by management commands, so that a row changed at night by the
batch still names who and why. Services read it when they write history rows and change events.
"""

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from auditlog.context import set_actor
from django.contrib.auth import get_user_model


@dataclass(frozen=True)
class AuditContext:
    actor_id: int | None
    source: str  # "web", "task:<name>", "command:<name>", "test"
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    remote_addr: str | None = None


_current: ContextVar[AuditContext | None] = ContextVar("audit_context", default=None)


class MissingAuditContext(RuntimeError):
    """A service that writes a history row or a change event was called with nobody named as acting: no web request,
    task, command or inbound handler entered `audit_context`. Nothing is written; the caller must say who acts (a
    user's id, or None with a source such as "task:<name>" for the system)."""


def current() -> AuditContext | None:
    return _current.get()


def require_context() -> AuditContext:
    """The context a writing service records, or MissingAuditContext: a change is never recorded as by "unknown"."""
    ctx = _current.get()
    if ctx is None:
        raise MissingAuditContext(
            "no audit context: enter common.context.audit_context(actor_id, source) before calling a service"
        )
    return ctx


def current_request_id() -> str | None:
    """django-auditlog's correlation id (settings.AUDITLOG_CID_GETTER): every change-history row carries the id of
    the request, task or command that made it."""
    ctx = _current.get()
    return ctx.request_id if ctx else None


@contextlib.contextmanager
def audit_context(
    actor_id: int | None, source: str, request_id: str | None = None, remote_addr: str | None = None
) -> Iterator[AuditContext]:
    """Enter the context. Outside the web (where auditlog's middleware names the user), the actor is also handed to
    django-auditlog, so that its change history names who acted in a task or a command."""
    ctx = AuditContext(
        actor_id=actor_id, source=source, request_id=request_id or uuid.uuid4().hex, remote_addr=remote_addr
    )
    token = _current.set(ctx)
    try:
        with contextlib.ExitStack() as stack:
            if actor_id is not None and source != "web":
                actor = get_user_model().objects.filter(pk=actor_id).first()
                stack.enter_context(set_actor(actor, remote_addr=remote_addr))
            yield ctx
    finally:
        _current.reset(token)
