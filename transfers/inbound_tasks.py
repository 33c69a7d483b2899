"""Tasks of the receiving side (transfers/tasks.py holds the sending side)."""

from celery import shared_task

from common.context import audit_context

from .inbound import SPOOL_COUNTS, process_spool_inbox
from .models import Partner


@shared_task(name="transfers.inbound_tasks.poll_spool_inboxes", acks_late=True, ignore_result=True)
def poll_spool_inboxes() -> dict[str, int]:
    """Receive what the spool partners (the CS) left in their `in/` directories; returns the total counts."""
    totals = dict.fromkeys(SPOOL_COUNTS, 0)
    with audit_context(None, "task:poll_spool_inboxes"):
        for partner in Partner.objects.filter(transport=Partner.Transport.SPOOL, is_active=True).exclude(spool_dir=""):
            for name, count in process_spool_inbox(partner).items():
                totals[name] += count
    return totals
