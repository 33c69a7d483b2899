"""The audit context: who is acting, through which request or job, and why.

Entered by the web middleware, by Celery tasks and by management commands, so that a row changed at night by the
batch still names who and why. Services read it when they write history rows and change events.
"""

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AuditContext:
    actor_id: int | None
    source: str  # "web", "task:<name>", "command:<name>", "test"
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    remote_addr: str | None = None


_current: ContextVar[AuditContext | None] = ContextVar("audit_context", default=None)


def current() -> AuditContext | None:
    return _current.get()


@contextlib.contextmanager
def audit_context(
    actor_id: int | None, source: str, request_id: str | None = None, remote_addr: str | None = None
) -> Iterator[AuditContext]:
    ctx = AuditContext(
        actor_id=actor_id, source=source, request_id=request_id or uuid.uuid4().hex, remote_addr=remote_addr
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
