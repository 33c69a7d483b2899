"""The nightly batch of the outbox: deliver everything that is due now, inline, and say how it went.

Exits non-zero when any delivery attempt failed (retried later, or given up), so that the batch scheduler shows it.
"""

from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from common.context import audit_context
from transfers import delivery
from transfers.delivery import Outcome

PROGRESS = (Outcome.ACKNOWLEDGED, Outcome.SENT, Outcome.RETRIED, Outcome.FAILED)


class Command(BaseCommand):
    help = "送信待ちの通知をすべて送信する（夜間バッチ）。失敗があれば 0 以外で終了する"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--limit", type=int, default=0, help="送信する通知の上限（既定: すべて）")
        parser.add_argument("--dry-run", action="store_true", help="送信せず、送信対象の件数だけ表示する")

    def handle(self, *args, **options) -> None:
        limit = max(options["limit"], 0)
        with audit_context(None, "command:send_pending_notifications"):
            if options["dry_run"]:
                self._dry_run()
                return
            counts = self._deliver(limit)
        summary = (
            f"送信 {counts[Outcome.SENT] + counts[Outcome.ACKNOWLEDGED]} 件"
            f"（受領確認 {counts[Outcome.ACKNOWLEDGED]} 件）・再試行 {counts[Outcome.RETRIED]} 件"
            f"・失敗 {counts[Outcome.FAILED]} 件・休止中の相手 {counts[Outcome.PAUSED]} 件"
        )
        if counts[Outcome.RETRIED] or counts[Outcome.FAILED]:
            raise CommandError(f"送信できなかった通知があります: {summary}")
        self.stdout.write(self.style.SUCCESS(summary))

    def _deliver(self, limit: int) -> Counter[str]:
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
            for notice_id in ids[:budget]:
                outcome = delivery.deliver(notice_id)
                counts[outcome] += 1
                if outcome in PROGRESS:
                    attempted.add(notice_id)
                    moved = True
            if not moved:
                return counts

    def _dry_run(self) -> None:
        due = delivery.count_due()
        for (receiver, kind), count in sorted(due.items()):
            self.stdout.write(f"{receiver}\t{kind}\t{count}")
        self.stdout.write(f"送信対象 {sum(due.values())} 件（--dry-run: 送信していません）")
