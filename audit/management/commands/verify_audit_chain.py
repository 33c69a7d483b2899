"""Verify the audit log: the hash chain from the first entry to the head, every daily seal file against the
database (audit/seals.py), and the newest tail witness (audit/witness.py: a lane cut back or rewritten after it was
witnessed). Exit 0 when all hold; 1 naming the first bad entry, seal or witness otherwise."""

from django.core.management.base import CommandParser

from audit import seals, witness
from audit.chain import verify
from audit.models import AuditLogEntry
from common.batch import OK, PROBLEMS, BatchCommand, BatchOutcome, Run


class Command(BatchCommand):
    help = (
        "監査ログのハッシュチェーン・日次封印・末尾の証跡を検証する"
        "（改ざん・削除・末尾の切り詰めがあれば最初の記録または封印を示して終了コード1）"
    )

    def add_batch_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--skip-seals", action="store_true", help="封印ファイル・末尾の証跡との照合を行わない")

    def run_batch(self, run: Run, **options) -> BatchOutcome:
        total = AuditLogEntry.objects.count()
        run.count("entries", total)
        problems = list(verify())
        seal_count = 0
        if not options["skip_seals"]:
            seal_count = len(seals.seal_files())
            run.count("seals", seal_count)
            problems += list(run.progress(seals.verify_seals(), total=seal_count or None, desc="封印の照合"))
            problems += list(witness.verify_witness())
        run.count("problems", len(problems))
        for problem in problems:
            self.stderr.write(self.style.ERROR(str(problem)))
        checked = f"監査ログ {total} 件・封印 {seal_count} 件"
        if problems:
            return BatchOutcome(f"{checked}: 改ざんまたは削除があります（{len(problems)} 件）", PROBLEMS)
        return BatchOutcome(f"{checked}: チェーンは完全です", OK)
