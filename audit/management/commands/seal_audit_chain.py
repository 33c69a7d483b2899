"""Seal the audit chain's head at the end of a day: a signed JSON file outside the database and a ChainSeal row
(audit/seals.py). Without --date: every day since the newest seal up to yesterday. Safe to re-run: an existing
seal with the same content is left as it is; one with different content is refused (exit 1). Then (not in a dry
run) the tail witness of the chain as it is now (audit/witness.py), which beat also writes every minute."""

import datetime as dt

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from audit import seals, witness
from common.batch import OK, PROBLEMS, BatchCommand, BatchOutcome, Run


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日付は YYYY-MM-DD で指定してください: {value}") from exc


class Command(BatchCommand):
    help = "監査ログのその日の末尾（最終ID・ハッシュ・件数）を区の鍵で署名し、封印ファイルとして書き出す"
    supports_dry_run = True

    def add_batch_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=_date, help="封印する日（YYYY-MM-DD、既定: 前回の封印の翌日から昨日まで）")

    def run_batch(self, run: Run, **options) -> BatchOutcome:
        day = options.get("date")
        if day is not None and day >= timezone.localdate():
            raise CommandError("封印できるのは終わった日（昨日まで）だけです。")
        days = [day] if day else seals.days_to_seal()
        conflicts = []
        for each in run.progress(days, total=len(days), desc="封印", unit="日"):
            try:
                result = seals.seal_day(each, dry_run=run.dry_run)
            except seals.SealConflict as conflict:
                conflicts.append(str(conflict))
                self.stderr.write(self.style.ERROR(str(conflict)))
                continue
            run.count("written" if result.written else "unchanged")
            head = result.head
            self.stdout.write(
                f"{each}\t最終ID {head.last_entry_id}\t件数 {head.entry_count}\t{head.last_hash[:16]}…\t"
                f"{'書き出し' if result.written else ('試行' if run.dry_run else '既存')}"
            )
        if not run.dry_run:
            witnessed = witness.write_witness()
            for problem in witnessed.problems:
                conflicts.append(str(problem))
                self.stderr.write(self.style.ERROR(str(problem)))
        run.count("conflicts", len(conflicts))
        if conflicts:
            return BatchOutcome(f"封印または末尾の証跡を書けません（{len(conflicts)} 件）", PROBLEMS)
        if not days:
            return BatchOutcome("封印する日はありません（昨日まで封印済み）", OK)
        verb = "封印予定" if run.dry_run else "封印"
        return BatchOutcome(f"{days[0]}〜{days[-1]} の {len(days)} 日を{verb}しました", OK)
