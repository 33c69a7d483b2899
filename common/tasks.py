"""Tasks of the shared plumbing."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from .batch import BatchExit
from .context import audit_context

logger = logging.getLogger(__name__)


@shared_task(name="common.tasks.heartbeat", ignore_result=True)
def heartbeat() -> str:
    """Proves that beat schedules and a worker runs: logs, and writes the time to var/celery-heartbeat."""
    now = timezone.now().isoformat()
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    (settings.VAR_DIR / "celery-heartbeat").write_text(now + "\n", encoding="utf-8")
    logger.info("heartbeat %s", now)
    return now


# Registered under its first name: the beat schedule (config/celery.py) and queued messages call it by that name.
@shared_task(name="audit.tasks.run_batch_command", acks_late=True, ignore_result=True)
def run_batch_command(name: str, **options) -> int:
    """Beat's way into the nightly batch: run a BatchCommand by name, recorded as started by a task. Returns the
    command's exit code (the run record holds its summary)."""
    with audit_context(None, f"task:{name}"):
        try:
            call_command(name, no_progress=True, **options)
        except BatchExit as exc:
            logger.warning("batch %s ended with exit code %s", name, exc.code)
            return int(exc.code)
    return 0
