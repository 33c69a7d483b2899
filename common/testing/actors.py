"""Who acts in a test that calls a service directly (services refuse to write without an audit context:
common.context.MissingAuditContext). The root conftest's `as_clerk` fixture uses these too."""

import contextlib
from collections.abc import Iterator

from common.context import AuditContext, audit_context

TEST_SOURCE = "test"


@contextlib.contextmanager
def acting_as(user, source: str = TEST_SOURCE) -> Iterator[AuditContext]:
    """Everything inside the block is done by `user`, as if through the web."""
    with audit_context(user.pk, source) as ctx:
        yield ctx


@contextlib.contextmanager
def as_system(source: str = TEST_SOURCE) -> Iterator[AuditContext]:
    """Everything inside the block is done by the system (no user), as a task, a command or an inbound notice is."""
    with audit_context(None, source) as ctx:
        yield ctx
