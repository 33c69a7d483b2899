"""Periodic audit work (scheduled by Celery beat, see config/celery.py): expiring grants, and the nightly batch
commands (analyze_access_logs and the others) through run_batch_command."""

import logging

from celery import shared_task

from common.context import audit_context

from . import restrictions

logger = logging.getLogger(__name__)


@shared_task(name="audit.tasks.revoke_expired_grants", ignore_result=True)
def revoke_expired_grants() -> int:
    """Nightly: expired 個別許可 lose their guardian permission; each expiry goes into the chain as `expire`."""
    with audit_context(None, "task:revoke_expired_grants"):
        count = restrictions.revoke_expired()
    logger.info("expired grants revoked: %d", count)
    return count


@shared_task(name="audit.tasks.run_batch_command", acks_late=True, ignore_result=True)
def run_batch_command(name: str, **options) -> int:
    """Beat's way into the nightly batch: run a BatchCommand by name, recorded as started by a task. Returns the
    command's exit code (the run record holds its summary)."""
    from django.core.management import call_command

    from .batch import BatchExit

    with audit_context(None, f"task:{name}"):
        try:
            call_command(name, no_progress=True, **options)
        except BatchExit as exc:
            logger.warning("batch %s ended with exit code %s", name, exc.code)
            return int(exc.code)
    return 0
