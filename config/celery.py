"""The Celery application. Tasks live in each app's `tasks.py`; the periodic schedule is declared here."""

import os

from celery import Celery
from celery.schedules import crontab
from django.conf import settings

from . import kombu_redis_fix
from .celery_logging import quiet_periodic_tasks

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
kombu_redis_fix.apply()  # a worker whose Redis restarts reconnects instead of exiting (config/kombu_redis_fix.py)

app = Celery("ward")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(related_name="inbound_tasks")  # transfers/inbound_tasks.py: the receiving side

app.conf.beat_schedule = {
    # Nightly batch: the registers must agree with each other (住民票 ↔ 附票, one 世帯主 per 世帯).
    "nightly-consistency-check": {
        "task": "registry.tasks.check_register_consistency",
        "schedule": crontab(hour=2, minute=30),
    },
    # Grants to open a restricted record end at their expiry; the permission is removed and the expiry logged.
    "nightly-revoke-expired-grants": {
        "task": "audit.tasks.revoke_expired_grants",
        "schedule": crontab(hour=0, minute=5),
    },
    # The periodic analysis the ward paper asks for (mass lookups, after hours and holidays, denials, grant use,
    # failed logins, overdue and failed notices): yesterday's flags for the supervisors' page /audit/flags/.
    "nightly-analyze-access-logs": {
        "task": "audit.tasks.run_batch_command",
        "schedule": crontab(hour=3, minute=15),
        "args": ["analyze_access_logs"],
    },
    # The outbox: queue what is due (lost queueing, retries, dead workers' leases); read the spool partners' acks.
    "transfers-sweep-outbox": {
        "task": "transfers.tasks.sweep_outbox",
        "schedule": settings.TRANSFERS_SWEEP_INTERVAL,
    },
    "transfers-collect-spool-acks": {
        "task": "transfers.tasks.collect_spool_acks",
        "schedule": settings.TRANSFERS_SWEEP_INTERVAL,
    },
    # The receiving side: envelopes the spool partners (the CS) left in their in/ directories.
    "transfers-poll-spool-inboxes": {
        "task": "transfers.inbound_tasks.poll_spool_inboxes",
        "schedule": settings.TRANSFERS_SWEEP_INTERVAL,
    },
    # --- The nightly batch (common.batch.BatchCommand; each run leaves a run record, /audit/batch/) ------------
    # The outbox once more, inline, with the report of failed and overdue notices (the sweeper above stays).
    "nightly-send-pending-notifications": {
        "task": "audit.tasks.run_batch_command",
        "schedule": crontab(hour=1, minute=0),
        "args": ("send_pending_notifications",),
    },
    # The day's chain head, signed and written outside the database; then the whole chain and every seal checked.
    "nightly-seal-audit-chain": {
        "task": "audit.tasks.run_batch_command",
        "schedule": crontab(hour=0, minute=15),
        "args": ("seal_audit_chain",),
    },
    # The chain's tail (each lane's last entry, hash and count), signed into the seal directory every minute: a
    # truncation of today's entries by the database owner is found by verify_audit_chain (audit/witness.py).
    "witness-audit-chain": {
        "task": "audit.tasks.witness_audit_chain",
        "schedule": 60.0,
    },
    "nightly-verify-audit-chain": {
        "task": "audit.tasks.run_batch_command",
        "schedule": crontab(hour=0, minute=45),
        "args": ("verify_audit_chain",),
    },
    # 住民票 against 附票: differences become tasks for clerks (/residents/discrepancies/).
    "nightly-reconcile-registers": {
        "task": "audit.tasks.run_batch_command",
        "schedule": crontab(hour=2, minute=45),
        "args": ("reconcile_registers",),
    },
    # Retention rules (docs/retention.md), with an erasure record for what was removed.
    "nightly-purge-expired": {
        "task": "audit.tasks.run_batch_command",
        "schedule": crontab(hour=4, minute=0),
        "args": ("purge_expired",),
    },
    # Encrypted backup of the database and the seals (after the seal and the purge), rotated; then restored into a
    # scratch database and compared with its manifest (README: バックアップと復元の確認).
    "nightly-backup": {
        "task": "audit.tasks.run_batch_command",
        "schedule": crontab(hour=4, minute=30),
        "args": ("backup",),
    },
    "nightly-restore-check": {
        "task": "audit.tasks.run_batch_command",
        "schedule": crontab(hour=5, minute=30),
        "args": ("restore_check",),
    },
    # The whole 附票本人確認情報 for J-LIS's monthly re-sync, encrypted for J-LIS, with its 管理簿 entry.
    "monthly-jlis-bulk-export": {
        "task": "audit.tasks.run_batch_command",
        "schedule": crontab(day_of_month=1, hour=5, minute=0),
        "args": ("jlis_bulk_export",),
    },
    # Heartbeat, so that an operator can see that worker and beat are alive (README: 動作確認).
    "heartbeat": {
        "task": "common.tasks.heartbeat",
        "schedule": 60.0,
    },
}

# The tasks above that run every few seconds log their routine lines at DEBUG, not INFO (config/celery_logging.py).
quiet_periodic_tasks(app.conf.beat_schedule)
