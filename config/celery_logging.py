"""Quiet logs for the tasks beat sends every few seconds.

Beat sends the outbox sweep, the spool polls, the chain witness and the heartbeat every 5 to 60 seconds; at INFO,
beat's "Scheduler: Sending due task …" and the worker's "Task … received" / "Task … succeeded" lines for them fill
a terminal with some 200 lines a minute (two instances under `make run`), and the demo logins scroll away. For
those tasks (and the deliveries the sweep queues) the three lines are DEBUG records: shown with --loglevel=DEBUG,
dropped at INFO. Every other task, and every warning or error about any task, is logged as before.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

# Loggers of the three lines: beat's sending, the worker's receiving (strategy) and its result (trace).
LOGGERS = ("celery.beat", "celery.worker.strategy", "celery.app.trace")
FREQUENT = dt.timedelta(minutes=10)  # a schedule at least this frequent is "periodic noise"
ALSO_QUIET = ("transfers.tasks.deliver_notice",)  # queued by the sweep; the audit chain records every delivery


def frequent_tasks(beat_schedule: Mapping[str, Mapping[str, Any]], every: dt.timedelta = FREQUENT) -> set[str]:
    """The task names of the schedule's entries that run at a fixed interval of at most `every`."""
    found = set()
    for entry in beat_schedule.values():
        schedule = entry.get("schedule")
        seconds = schedule.total_seconds() if isinstance(schedule, dt.timedelta) else schedule
        if isinstance(seconds, int | float) and seconds <= every.total_seconds():
            found.add(entry["task"])
    return found


class QuietPeriodicTasks(logging.Filter):
    """Turns the INFO lines about the given tasks into DEBUG records (kept only where DEBUG is enabled)."""

    def __init__(self, task_names: Iterable[str]) -> None:
        super().__init__()
        self.task_names = frozenset(task_names)

    @staticmethod
    def task_of(record: logging.LogRecord) -> str | None:
        data = getattr(record, "data", None)  # the worker's lines carry their context here
        if isinstance(data, Mapping):
            return data.get("name")
        if record.name == "celery.beat" and isinstance(record.args, tuple) and len(record.args) == 2:
            return str(record.args[1])  # 'Scheduler: Sending due task %s (%s)', entry name, task name
        return None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or self.task_of(record) not in self.task_names:
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def quiet_periodic_tasks(beat_schedule: Mapping[str, Mapping[str, Any]]) -> QuietPeriodicTasks:
    """Install the filter on the three loggers (once per process; the newest schedule wins)."""
    quiet = QuietPeriodicTasks(frequent_tasks(beat_schedule) | set(ALSO_QUIET))
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, QuietPeriodicTasks)]:
            logger.removeFilter(old)
        logger.addFilter(quiet)
    return quiet
