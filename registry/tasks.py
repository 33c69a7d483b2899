"""Nightly batch tasks of the 住民基本台帳 (scheduled by Celery beat, see config/celery.py)."""

import logging

from celery import shared_task

from common.context import audit_context

from .consistency import iter_inconsistencies

logger = logging.getLogger(__name__)
REPORT_LIMIT = 1_000  # log at most this many findings; the count is always complete


@shared_task(name="registry.tasks.check_register_consistency", ignore_result=True)
def check_register_consistency() -> int:
    """Check 住民票 ↔ 附票 and 世帯 consistency; log findings by record id only (never names or addresses)."""
    count = 0
    with audit_context(None, "task:check_register_consistency"):
        for finding in iter_inconsistencies():
            count += 1
            if count <= REPORT_LIMIT:
                logger.warning("consistency %s", finding)
    logger.info("consistency check finished: %d finding(s)", count)
    return count
