"""Nightly: the 住民票 against the 附票 for people whose 本籍 and 住所 are both in the ward (registry/reconcile.py).
Differences become tasks for clerks (/residents/discrepancies/); re-running does not duplicate them, and a task whose
differences disappeared is closed with a note. Exit 1 while tasks are open."""

from common.batch import OK, PROBLEMS, BatchCommand, BatchOutcome, Run
from registry.reconcile import person_findings, reconcile


class Command(BatchCommand):
    help = "住民票と戸籍の附票を照合し、相違を職員の処理待ち（不一致）にする。未処理があれば終了コード1"
    supports_dry_run = True

    def run_batch(self, run: Run, **options) -> BatchOutcome:
        findings = run.progress(person_findings(), desc="照合", unit="人")
        result = reconcile(findings, dry_run=run.dry_run)
        counts = result.counts
        for key in ("opened", "updated", "unchanged", "closed", "without_code", "invalid_code"):
            run.count(key, counts[key])
        verb = "予定" if run.dry_run else ""
        summary = (
            f"不一致: 新規 {counts['opened']} 件・更新 {counts['updated']} 件・継続 {counts['unchanged']} 件"
            f"・自動解消 {counts['closed']} 件{verb}"
        )
        if counts["without_code"]:
            summary += f"（住民票コードのない附票の相違 {counts['without_code']} 件は整合性検査で確認）"
        if counts["invalid_code"]:
            summary += f"（住民票コードの検査数字が正しくない相違 {counts['invalid_code']} 件は整合性検査で確認）"
        open_after = result.open_after
        run.count("open", open_after)
        return BatchOutcome(f"{summary}／未処理 {open_after} 件", PROBLEMS if open_after else OK)
