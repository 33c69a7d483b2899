"""Periodic audit work (scheduled by Celery beat, see config/celery.py): expiring grants and the chain's tail witnessed
every minute. The nightly batch commands run through common.tasks.run_batch_command."""

import logging

from celery import shared_task

from common.context import audit_context

from . import restrictions, witness

logger = logging.getLogger(__name__)


@shared_task(name="audit.tasks.revoke_expired_grants", ignore_result=True)
def revoke_expired_grants() -> int:
    """Nightly: expired 個別許可 lose their guardian permission; each expiry goes into the chain as `expire`."""
    with audit_context(None, "task:revoke_expired_grants"):
        count = restrictions.revoke_expired()
    logger.info("expired grants revoked: %d", count)
    return count


@shared_task(name="audit.tasks.witness_audit_chain", ignore_result=True)
def witness_audit_chain() -> bool:
    """Every minute: the end of each lane of the chain, signed, in the seal directory (audit/witness.py). When the
    chain no longer reaches the previous witness (its tail was cut or rewritten), nothing is written and each
    problem is logged as an error; verify_audit_chain reports it too. Returns whether a witness was written."""
    with audit_context(None, "task:witness_audit_chain"):
        result = witness.write_witness()
    for problem in result.problems:
        logger.error("audit chain tail witness: %s", problem)
    return result.written
