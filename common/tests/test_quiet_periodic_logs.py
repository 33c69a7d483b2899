"""Issue 15, item 9: `make run` stays readable — the routine lines of the tasks beat sends every few seconds (beat's
"Sending due task", the worker's "received" and "succeeded") are not logged at INFO; the nightly tasks' lines are.
The records go through Celery's own logging calls and the filter config/celery.py installs on import."""

import logging

import pytest
from celery.app import trace
from celery.beat import logger as beat_logger
from celery.worker import strategy

from config.celery import app
from config.celery_logging import LOGGERS, frequent_tasks

SWEEP = "transfers.tasks.sweep_outbox"
NIGHTLY = "audit.tasks.run_batch_command"


def _beat_sends(task: str) -> None:
    beat_logger.info("Scheduler: Sending due task %s (%s)", f"entry-of-{task}", task)


def _worker_receives_and_finishes(task: str) -> None:
    received = {"id": "1", "name": task, "args": "()", "kwargs": "{}", "eta": None}
    strategy.logger.info(trace.LOG_RECEIVED, received, extra={"data": received})
    trace.info(trace.LOG_SUCCESS, {"id": "1", "name": task, "return_value": "{}", "runtime": 0.01})


def _lines_of(caplog, task: str) -> list[tuple[str, str]]:
    return [(r.name, r.levelname) for r in caplog.records if task in r.getMessage()]


def test_the_frequent_tasks_are_those_of_the_short_intervals():
    found = frequent_tasks(app.conf.beat_schedule)
    assert {SWEEP, "transfers.tasks.collect_spool_acks", "transfers.inbound_tasks.poll_spool_inboxes"} <= found
    assert NIGHTLY not in found  # crontab entries: once a night, worth a line


def test_periodic_task_lines_are_not_logged_at_info(caplog):
    caplog.set_level(logging.INFO)
    for task in (SWEEP, "transfers.tasks.deliver_notice"):
        _beat_sends(task)
        _worker_receives_and_finishes(task)
        assert _lines_of(caplog, task) == []


def test_nightly_task_lines_still_are(caplog):
    caplog.set_level(logging.INFO)
    _beat_sends(NIGHTLY)
    _worker_receives_and_finishes(NIGHTLY)
    assert _lines_of(caplog, NIGHTLY) == [
        ("celery.beat", "INFO"),
        ("celery.worker.strategy", "INFO"),
        ("celery.app.trace", "INFO"),
    ]


def test_with_debug_enabled_the_periodic_lines_come_as_debug(caplog):
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    _beat_sends(SWEEP)
    _worker_receives_and_finishes(SWEEP)
    assert [level for _, level in _lines_of(caplog, SWEEP)] == ["DEBUG", "DEBUG", "DEBUG"]


@pytest.mark.parametrize("level", [logging.WARNING, logging.ERROR])
def test_problems_with_periodic_tasks_are_never_hidden(caplog, level):
    caplog.set_level(logging.INFO)
    strategy.logger.log(level, "Task %(name)s failed", {"name": SWEEP}, extra={"data": {"name": SWEEP}})
    assert _lines_of(caplog, SWEEP) == [("celery.worker.strategy", logging.getLevelName(level))]
