"""The nightly batch of the outbox: deliver everything that is due now, inline, and say how it went — then report the
notices that need a person: those given up (送信失敗, waiting for a supervisor's 再送) and those still unacknowledged
long after they were written (遅延), counted per receiver (codes only, never personal data).

Exit code 1 when a delivery attempt of this run failed (retried later, or given up) or when failed notices wait for
a supervisor, so that the batch scheduler and the run records show it; 0 otherwise.
"""

from collections import Counter

from django.core.management.base import CommandParser
from django.db.models import Count
from django.utils import timezone

from common.batch import OK, PROBLEMS, BatchCommand, BatchOutcome, Run
from transfers import delivery
from transfers.delivery import Outcome
from transfers.models import OutboundNotice
from transfers.views.display import UNACKNOWLEDGED, overdue_after

PROGRESS = (Outcome.ACKNOWLEDGED, Outcome.SENT, Outcome.RETRIED, Outcome.FAILED, Outcome.UNCONNECTED)


def attention_by_receiver() -> tuple[dict[str, int], dict[str, int]]:
    """(failed, overdue) notices per receiver: failed ones wait for a 再送, and so, as far as a person is concerned,
    do those set aside as 送信先未接続 (until the receiver is registered); overdue ones are unacknowledged
    TRANSFERS_OVERDUE_AFTER after they were written (the outbox page marks the same ones)."""
    cutoff = timezone.now() - overdue_after()

    def per_receiver(queryset) -> dict[str, int]:
        rows = queryset.values("receiver").annotate(n=Count("id")).order_by("receiver")
        return {row["receiver"]: row["n"] for row in rows}

    failed = per_receiver(
        OutboundNotice.objects.filter(state__in=(OutboundNotice.State.FAILED, OutboundNotice.State.UNCONNECTED))
    )
    overdue = per_receiver(OutboundNotice.objects.filter(state__in=UNACKNOWLEDGED, created_at__lte=cutoff))
    return failed, overdue


class Command(BatchCommand):
    help = (
        "送信待ちの通知をすべて送信し、送信失敗と遅延の通知を相手ごとに報告する（夜間バッチ）。"
        "送信に失敗した、または再送待ちの失敗があれば終了コード1"
    )
    supports_dry_run = True

    def add_batch_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=0, help="送信する通知の上限（既定: すべて）")

    def run_batch(self, run: Run, **options) -> BatchOutcome:
        if run.dry_run:
            return self._dry_run(run)
        counts = self._deliver(run, max(options["limit"], 0))
        for outcome, n in counts.items():
            run.count(outcome, n)
        delivered = (
            f"送信 {counts[Outcome.SENT] + counts[Outcome.ACKNOWLEDGED]} 件"
            f"（受領確認 {counts[Outcome.ACKNOWLEDGED]} 件）・再試行 {counts[Outcome.RETRIED]} 件"
            f"・失敗 {counts[Outcome.FAILED]} 件・送信先未接続 {counts[Outcome.UNCONNECTED]} 件"
            f"・休止中の相手 {counts[Outcome.PAUSED]} 件"
        )
        failed, overdue = self._report(run)
        summary = f"{delivered}／再送待ちの送信失敗・未接続 {sum(failed.values())} 件・遅延 {sum(overdue.values())} 件"
        problems = counts[Outcome.RETRIED] or counts[Outcome.FAILED] or failed
        if problems:
            summary = f"送信できなかった通知があります: {summary}"
        return BatchOutcome(summary, PROBLEMS if problems else OK)

    def _deliver(self, run: Run, limit: int) -> Counter[str]:
        """Rounds of due notices until nothing moves. A notice that waited for an older one about the same person
        becomes due in a later round, once that one is acknowledged; a notice is attempted once per run (a failed
        one waits for its backoff and the next sweep, not for this batch to hammer its partner)."""
        counts: Counter[str] = Counter()
        attempted: set[int] = set()
        while True:
            budget = limit - len(attempted) if limit else 500
            if budget <= 0:
                return counts
            size = min(budget, 500)
            ids = [i for i in delivery.due_notice_ids(limit=size, per_partner=size) if i not in attempted]
            moved = False
            for notice_id in run.progress(ids[:budget], total=len(ids[:budget]), desc="送信"):
                outcome = delivery.deliver(notice_id)
                counts[outcome] += 1
                if outcome in PROGRESS:
                    attempted.add(notice_id)
                    moved = True
            if not moved:
                return counts

    def _report(self, run: Run) -> tuple[dict[str, int], dict[str, int]]:
        """The notices that need a person, per receiver, on stdout and in the run's counts."""
        failed, overdue = attention_by_receiver()
        for label, key, per_receiver in (
            ("送信失敗・未接続", "failed_notices", failed),
            ("遅延", "overdue_notices", overdue),
        ):
            run.count(key, sum(per_receiver.values()))
            for receiver, n in per_receiver.items():
                self.stdout.write(f"{label}\t{receiver}\t{n}")
                run.count(f"{key}:{receiver}", n)
        return failed, overdue

    def _dry_run(self, run: Run) -> BatchOutcome:
        due = delivery.count_due()
        for (receiver, kind), count in sorted(due.items()):
            self.stdout.write(f"{receiver}\t{kind}\t{count}")
        run.count("due", sum(due.values()))
        failed, overdue = self._report(run)
        return BatchOutcome(
            f"送信対象 {sum(due.values())} 件（送信していません）／再送待ちの送信失敗・未接続 {sum(failed.values())} 件"
            f"・遅延 {sum(overdue.values())} 件"
        )
