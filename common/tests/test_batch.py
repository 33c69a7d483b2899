"""The batch framework: run records, dry runs, summary line, exit codes, crashes, and runs started by beat."""

import pytest
from django.core.management import call_command

from audit.models import BatchRun
from common import tasks
from common.batch import PROBLEMS, BatchCommand, BatchExit, BatchOutcome
from common.context import audit_context, current

pytestmark = pytest.mark.django_db


class Sample(BatchCommand):
    help = "試験用"
    supports_dry_run = True

    def add_batch_arguments(self, parser) -> None:
        parser.add_argument("--items", type=int, default=3)
        parser.add_argument("--fail", action="store_true")
        parser.add_argument("--crash", action="store_true")

    def run_batch(self, run, **options) -> BatchOutcome:
        self.seen_source = current().source
        if options["crash"]:
            raise RuntimeError("boom")
        for _ in run.progress(range(options["items"]), total=options["items"]):
            run.count("checked")
        verb = "確認予定" if run.dry_run else "確認"
        code = PROBLEMS if options["fail"] else 0
        return BatchOutcome(f"{options['items']} 件を{verb}しました", code, {"problems": int(options["fail"])})


def test_a_run_is_recorded_with_its_summary_and_counts(capsys):
    command = Sample()
    call_command(command, items=4)
    run = BatchRun.objects.get()
    assert run.status == BatchRun.Status.SUCCEEDED
    assert (run.exit_code, run.dry_run, run.source) == (0, False, "command")
    assert run.counts == {"checked": 4, "problems": 0}
    assert run.summary == "4 件を確認しました"
    assert run.finished_at is not None
    assert run.arguments["items"] == 4
    assert capsys.readouterr().out.strip() == "4 件を確認しました"
    assert command.seen_source == "command:test_batch"


def test_dry_run_is_marked_in_the_record_and_the_summary(capsys):
    call_command(Sample(), dry_run=True)
    assert BatchRun.objects.get().dry_run is True
    assert capsys.readouterr().out.strip() == "【試行】3 件を確認予定しました"


def test_problems_end_with_exit_code_one_and_a_failed_record():
    with pytest.raises(BatchExit) as caught:
        call_command(Sample(), fail=True)
    assert caught.value.code == PROBLEMS
    run = BatchRun.objects.get()
    assert (run.status, run.exit_code) == (BatchRun.Status.FAILED, PROBLEMS)


def test_a_crash_is_recorded_and_raised():
    with pytest.raises(RuntimeError, match="boom"):
        call_command(Sample(), crash=True)
    run = BatchRun.objects.get()
    assert (run.status, run.exit_code, run.summary) == (BatchRun.Status.FAILED, 2, "異常終了: RuntimeError")


def test_a_run_started_by_beat_is_recorded_as_a_task():
    command = Sample()
    with audit_context(None, "task:test_batch"):
        call_command(command)
    assert BatchRun.objects.get().source == "task"
    assert command.seen_source == "task:test_batch"


def test_the_beat_task_runs_a_command_by_name_and_returns_its_exit_code(monkeypatch):
    calls = []

    def fake_call_command(name, **options):
        calls.append((name, options, current().source))
        raise BatchExit(PROBLEMS)

    monkeypatch.setattr("common.tasks.call_command", fake_call_command)
    assert tasks.run_batch_command("verify_audit_chain") == PROBLEMS
    assert calls == [("verify_audit_chain", {"no_progress": True}, "task:verify_audit_chain")]
