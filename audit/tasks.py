"""Periodic audit work (scheduled by Celery beat, see config/celery.py): expiring grants and the access-log
analysis the ward council paper asks for."""

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from common.context import audit_context

from . import restrictions, selectors

logger = logging.getLogger(__name__)


@shared_task(name="audit.tasks.revoke_expired_grants", ignore_result=True)
def revoke_expired_grants() -> int:
    """Nightly: expired 個別許可 lose their guardian permission; each expiry goes into the chain as `expire`."""
    with audit_context(None, "task:revoke_expired_grants"):
        count = restrictions.revoke_expired()
    logger.info("expired grants revoked: %d", count)
    return count


def previous_day_bounds(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """[yesterday 0:00, today 0:00) in the ward's time."""
    today = timezone.localdate(now or timezone.now())
    start = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=1), dt.time.min))
    return start, start + dt.timedelta(days=1)


@shared_task(name="audit.tasks.report_access_anomalies", ignore_result=True)
def report_access_anomalies(threshold: int = selectors.MASS_VIEW_THRESHOLD) -> int:
    """Nightly: the previous day's anomalies per user, logged by 職員ID only (no personal data). Returns the number
    of users flagged."""
    start, end = previous_day_bounds()
    with audit_context(None, "task:report_access_anomalies"):
        flagged = list(selectors.iter_flagged(selectors.anomaly_report(start, end, threshold=threshold)))
    for row in flagged:
        logger.warning(
            "access anomaly %s: off_hours=%d denied=%d login_failed=%d peak_per_hour=%d mass_view=%d",
            row.username,
            row.off_hours,
            row.denied,
            row.login_failed,
            row.peak_per_hour,
            row.mass_view_episodes,
        )
    logger.info("access anomaly report %s–%s: %d user(s) flagged", start.date(), end.date(), len(flagged))
    return len(flagged)


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
