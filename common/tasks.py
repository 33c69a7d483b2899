"""Tasks of the shared plumbing."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="common.tasks.heartbeat", ignore_result=True)
def heartbeat() -> str:
    """Proves that beat schedules and a worker runs: logs, and writes the time to var/celery-heartbeat."""
    now = timezone.now().isoformat()
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    (settings.VAR_DIR / "celery-heartbeat").write_text(now + "\n", encoding="utf-8")
    logger.info("heartbeat %s", now)
    return now
