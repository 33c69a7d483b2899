"""Recording change events: the hook every register service leaves for the statutory notifications (transfers).

A service calls `record_event` inside its transaction; the event commits or rolls back with the change itself, so
a notice can never be raised for a change that did not happen, nor be missing for one that did.
"""

import uuid
from typing import Any

from .context import current
from .models import ChangeEvent


def record_event(
    kind: str,
    change_group: uuid.UUID,
    reason: str,
    payload: dict[str, Any],
    *,
    resident=None,
    fuhyo_entry=None,
    koseki=None,
    filing=None,
) -> ChangeEvent:
    ctx = current()
    event = ChangeEvent.objects.create(
        kind=kind,
        change_group=change_group,
        reason=reason,
        payload=payload,
        resident=resident,
        fuhyo_entry=fuhyo_entry,
        koseki=koseki,
        filing=filing,
        actor_id=ctx.actor_id if ctx else None,
        source=ctx.source if ctx else "unknown",
        request_id=ctx.request_id if ctx else "",
    )
    for router in _routers:
        router(event)
    return event


# Called with every event inside the transaction that recorded it (transfers registers the outbox writer in its
# AppConfig.ready), so the notices a change causes are written with the change itself.
_routers: list = []


def register_router(router) -> None:
    if router not in _routers:
        _routers.append(router)
