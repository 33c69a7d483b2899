"""Nightly: the retention rules (audit/purge.py, docs/retention.md). Removes only what a rule names, each removal
with its erasure record (the 消去報告書 on /audit/erasures/); access logs are never deleted. Safe to re-run: what
was removed is gone, so a second run finds nothing. Exit 1 when records past their period had to be kept because
something still refers to them (a supervisor looks at them)."""

from django.utils import timezone

from audit import purge
from common.batch import OK, PROBLEMS, BatchCommand, BatchOutcome, Run


class Command(BatchCommand):
    help = (
        "保存期間を過ぎた記録を消去し、消去の記録を残す"
        "（除票・除附票・通知の内容・書き出しファイル。アクセスログは消去しない）"
    )
    supports_dry_run = True

    def run_batch(self, run: Run, **options) -> BatchOutcome:
        now = timezone.now()
        today = timezone.localdate(now)
        rules = (
            ("residents", lambda: purge.purge_removed_residents(run.record, today=today, dry_run=run.dry_run)),
            ("fuhyo", lambda: purge.purge_closed_fuhyo(run.record, today=today, dry_run=run.dry_run)),
            ("notice_payloads", lambda: purge.purge_notice_payloads(run.record, now=now, dry_run=run.dry_run)),
        )
        kept = 0
        parts = []
        for key, apply in run.progress(rules, total=len(rules), desc="保存期間", unit="規則"):
            outcome = apply()
            run.count(key, outcome.count)
            if outcome.kept_referenced:
                run.count(f"{key}_kept_referenced", len(outcome.kept_referenced))
                kept += len(outcome.kept_referenced)
            for line in purge.report_lines(outcome):
                self.stdout.write(line)
            parts.append(f"{outcome.target} {outcome.count} 件")
        parts.append(self._exports(run))
        reach = purge.audit_log_reach(today=today)
        if reach is None:
            parts.append("アクセスログ 消去しない")
        else:
            cutoff, count = reach
            run.count("audit_log_past_period", count)
            parts.append(f"アクセスログ {cutoff} より前 {count} 件（消去しない）")
        verb = "消去予定" if run.dry_run else "消去"
        summary = f"{verb}: " + "・".join(parts)
        if kept:
            return BatchOutcome(f"{summary}／参照が残るため保存した記録 {kept} 件", PROBLEMS)
        return BatchOutcome(summary, OK)

    def _exports(self, run: Run) -> str:
        purger = purge.export_purger()
        if purger is None:
            return "書き出しファイル 対象外"
        if run.dry_run:
            return "書き出しファイル 試行では消去しない"
        removed = purger()
        run.count("export_files", removed)
        return f"書き出しファイル {removed} 件"
