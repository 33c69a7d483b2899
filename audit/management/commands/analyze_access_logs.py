"""The nightly analysis of the audit chain and the outbox: one day's findings stored as flags for the supervisors'
page /audit/flags/ (audit.analysis says what is flagged). Beat runs it every night for the day before.

Exit code 0 whenever the analysis ran, with or without findings: flags are findings for a supervisor to review,
not failures of the batch (a crash is 2, as for every BatchCommand). `--dry-run` prints the findings without
storing them."""

import datetime as dt

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from audit import analysis
from audit.models import AnalysisFlag
from common.batch import BatchCommand, BatchOutcome, Run
from common.wareki import WarekiError, parse_date


def _day(text: str | None) -> dt.date:
    if not text:
        return timezone.localdate() - dt.timedelta(days=1)
    try:
        return parse_date(text)
    except WarekiError as exc:
        raise CommandError(str(exc)) from None


class Command(BatchCommand):
    help = (
        "アクセスログ・送受信の記録を1日分分析し、大量閲覧・時間外・休日・拒否の繰り返し・個別許可の使用・"
        "ログイン失敗・通知の遅延と失敗を「分析で見つかった事項」として記録する（終了コードは事項があっても 0）"
    )
    supports_dry_run = True

    def add_batch_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="分析する日（和暦可。既定は昨日）")
        parser.add_argument(
            "--threshold",
            type=int,
            default=None,
            help="1時間にこの人数を超えて表示したら大量閲覧（既定は設定 AUDIT_MASS_LOOKUP_PER_HOUR）",
        )

    def run_batch(self, run: Run, **options) -> BatchOutcome:
        day = _day(options.get("date"))
        threshold = options.get("threshold")
        if threshold is not None and threshold < 1:
            raise CommandError("--threshold は 1 以上にしてください。")
        limits = analysis.Thresholds.from_settings(per_hour=threshold)
        findings = analysis.find(day, limits)
        counts = analysis.summary_counts(findings)
        per_kind = "、".join(f"{AnalysisFlag.Kind(kind).label} {n}" for kind, n in counts.items())
        if run.dry_run:
            for finding in findings:
                self.stdout.write(finding.line())
            return BatchOutcome(
                f"{day.isoformat()} の分析: {len(findings)} 件（{per_kind}）。記録していません", 0, counts
            )
        stored = analysis.store(day, findings)
        return BatchOutcome(
            f"{day.isoformat()} の分析: {len(findings)} 件（{per_kind}）。新規 {stored.created}、"
            f"更新 {stored.updated}、変化なし {stored.unchanged}",
            0,
            {**counts, "created": stored.created, "updated": stored.updated},
        )
