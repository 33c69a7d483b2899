"""Celery tasks of the outbox. They take ids only (never personal data in the broker), are idempotent (delivery
claims each attempt by a conditional update, so a task run twice sends once) and are acknowledged late
(`acks_late`): a worker that dies mid-task leaves the message to be redelivered, and the row's lease to expire.

- `deliver_notice(id)`: one delivery attempt; queued after the commit of the change that wrote the notice.
- `sweep_outbox()`: every TRANSFERS_SWEEP_INTERVAL seconds (beat), queues what is due — notices whose first
  queueing was lost (broker down at commit), retries whose backoff ran out, leases of dead workers. It claims
  nothing itself; when the broker is down it delivers a bounded number inline instead.
- `collect_spool_acks()`: reads the acknowledgement files of the spool partners.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable

from celery import shared_task
from django.conf import settings

from common.context import audit_context

from . import delivery

logger = logging.getLogger(__name__)
SWEEP_LIMIT = 200  # notices queued per sweep
INLINE_LIMIT = 20  # notices delivered by the sweep itself when the broker is down


def publish(notice_id: int, expires: float | None = None) -> None:
    # retry=False: a broker that is down must fail fast, not hold the clerk's request (the sweeper catches up).
    deliver_notice.apply_async(args=[notice_id], retry=False, expires=expires)


def enqueue(notice_ids: Iterable[int]) -> int:
    """Queue a delivery task per notice; returns how many were queued. Never raises: a broker error is logged (ids
    and the error's type only) and the sweeper delivers the notices later. Called after the commit."""
    ids = list(notice_ids)
    for done, notice_id in enumerate(ids):
        try:
            publish(notice_id)
        except Exception as exc:  # noqa: BLE001 - any broker failure: the row is safe in the outbox
            logger.warning(
                "could not queue %d notice(s) from id %s (%s); the sweeper will deliver them",
                len(ids) - done,
                notice_id,
                type(exc).__name__,
            )
            return done
    return len(ids)


@shared_task(name="transfers.tasks.deliver_notice", acks_late=True, ignore_result=True)
def deliver_notice(notice_id: int) -> str:
    with audit_context(None, "task:deliver_notice"):
        return delivery.deliver(int(notice_id))


@shared_task(name="transfers.tasks.sweep_outbox", acks_late=True, ignore_result=True)
def sweep_outbox(limit: int = SWEEP_LIMIT) -> dict[str, int]:
    with audit_context(None, "task:sweep_outbox"):
        ids = delivery.due_notice_ids(limit)
        # A queued task that waits longer than two sweeps is dropped: the next sweep queues the notice again.
        expires = max(2 * settings.TRANSFERS_SWEEP_INTERVAL, 10.0)
        queued = 0
        try:
            for notice_id in ids:
                publish(notice_id, expires=expires)
                queued += 1
        except Exception as exc:  # noqa: BLE001 - broker down: deliver some ourselves
            logger.warning("sweep: broker unavailable (%s); delivering inline", type(exc).__name__)
            outcomes = Counter(delivery.deliver(notice_id) for notice_id in ids[queued : queued + INLINE_LIMIT])
            return {"queued": queued, **outcomes}
        return {"queued": queued}


@shared_task(name="transfers.tasks.collect_spool_acks", acks_late=True, ignore_result=True)
def collect_spool_acks() -> dict[str, int]:
    with audit_context(None, "task:collect_spool_acks"):
        return dict(delivery.collect_spool_acks())
