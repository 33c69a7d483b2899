"""The nightly batch's common shape: every batch command is a `BatchCommand`.

A subclass implements `run_batch(run, **options) -> BatchOutcome`. The base class gives every command the same
behaviour, so that an operator never has to learn a command's quirks:

- a `BatchRun` row (the run record the UI lists) written when the run starts and completed when it ends, also
  when it crashes (status failed, exit code 2, the exception's type in the summary — never personal data);
- the audit context (`command:<name>`, or `task:<name>` when Celery beat started it), so that every change the run
  makes names the batch;
- `--dry-run` for commands that change anything (`supports_dry_run = True`): the run reports what it would do;
- a progress bar on a terminal (`run.progress(...)`, tqdm on stderr; silent under beat, cron or a pipe);
- one summary line on stdout, and the exit code: 0 all well, 1 the run found problems (failed notices, a broken
  chain, differences), 2 the run itself failed.

Beat runs the same commands through the task `common.tasks.run_batch_command(name, **options)` (registered as
`audit.tasks.run_batch_command`, the name the beat schedule uses).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from tqdm import tqdm

from audit.models import BatchRun
from common.context import audit_context, current

T = TypeVar("T")

OK, PROBLEMS, CRASHED = 0, 1, 2


@dataclass
class BatchOutcome:
    """What a run reports: one summary line (Japanese, no personal data), its exit code and its counts."""

    summary: str
    exit_code: int = OK
    counts: dict[str, int] = field(default_factory=dict)


class BatchExit(SystemExit):
    """Raised by `handle` to end the process with the run's exit code (call_command callers can catch it)."""

    code: int


class Run:
    """Handed to `run_batch`: whether this is a dry run, a progress bar and counters."""

    def __init__(self, record: BatchRun, *, dry_run: bool, show_progress: bool) -> None:
        self.record = record
        self.dry_run = dry_run
        self.show_progress = show_progress
        self.counts: Counter[str] = Counter()

    def progress(
        self, items: Iterable[T], *, total: int | None = None, desc: str = "", unit: str = "件"
    ) -> Iterator[T]:
        """Iterate with a progress bar on a terminal (stderr), silently otherwise."""
        yield from tqdm(
            items,
            total=total,
            desc=desc or self.record.command,
            unit=unit,
            disable=not self.show_progress,
            file=sys.stderr,
            dynamic_ncols=True,
        )

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] += n


class BatchCommand(BaseCommand):
    """Base class of the nightly batch commands. Subclasses set `help`, maybe `supports_dry_run`, and implement
    `add_batch_arguments` and `run_batch`."""

    supports_dry_run = False

    @property
    def batch_name(self) -> str:
        return self.__class__.__module__.rsplit(".", 1)[-1]

    def add_arguments(self, parser: CommandParser) -> None:
        if self.supports_dry_run:
            parser.add_argument("--dry-run", action="store_true", help="何も変更せず、行う内容だけを表示する")
        parser.add_argument("--no-progress", action="store_true", help="端末でも進み具合を表示しない")
        self.add_batch_arguments(parser)

    def add_batch_arguments(self, parser: CommandParser) -> None:
        """Options of the command itself."""

    def run_batch(self, run: Run, **options: Any) -> BatchOutcome:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = bool(options.get("dry_run", False))
        outer = current()
        source = outer.source if outer and outer.source.startswith("task:") else f"command:{self.batch_name}"
        record = BatchRun.objects.create(
            command=self.batch_name,
            dry_run=dry_run,
            source="task" if source.startswith("task:") else "command",
            actor_id=outer.actor_id if outer else None,
            arguments=_printable(options),
        )
        show = not options.get("no_progress") and sys.stderr.isatty()
        run = Run(record, dry_run=dry_run, show_progress=show)
        try:
            with audit_context(outer.actor_id if outer else None, source):
                outcome = self.run_batch(run, **options)
        except Exception as exc:
            self._finish(record, BatchOutcome(f"異常終了: {type(exc).__name__}", CRASHED, dict(run.counts)))
            raise
        outcome.counts = {**run.counts, **outcome.counts}
        self._finish(record, outcome)
        prefix = "【試行】" if dry_run else ""
        stream = self.stdout if outcome.exit_code == OK else self.stderr
        stream.write(f"{prefix}{outcome.summary}")
        if outcome.exit_code != OK:
            raise BatchExit(outcome.exit_code)

    @staticmethod
    def _finish(record: BatchRun, outcome: BatchOutcome) -> None:
        record.finished_at = timezone.now()
        record.exit_code = outcome.exit_code
        record.status = BatchRun.Status.SUCCEEDED if outcome.exit_code == OK else BatchRun.Status.FAILED
        record.summary = outcome.summary[:500]
        record.counts = {key: int(value) for key, value in outcome.counts.items()}
        record.save(update_fields=["finished_at", "exit_code", "status", "summary", "counts"])


# Options every Django command has; not worth recording.
_COMMON_OPTIONS = {"verbosity", "settings", "pythonpath", "traceback", "no_color", "force_color", "skip_checks"}


def _printable(options: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value if isinstance(value, str | int | float | bool) or value is None else str(value)
        for key, value in options.items()
        if key not in _COMMON_OPTIONS
    }
