"""Load the 地方公共団体コード table: the bundled subset, or the full 総務省 list from a file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.context import audit_context
from common.municipalities import BUNDLED_TABLE, MunicipalityTableError, load_rows, read_table


class Command(BaseCommand):
    help = "地方公共団体コード表を読み込む（既定は同梱分。--file で総務省の全国地方公共団体コード一覧 CSV を取り込む）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=BUNDLED_TABLE, help="TSV（同梱形式）または CSV（総務省形式）")
        parser.add_argument("--dry-run", action="store_true", help="検査だけして書き込まない")

    def handle(self, *args, file: Path, dry_run: bool, **options) -> None:
        if not file.exists():
            raise CommandError(f"ファイルがありません: {file}")
        try:
            rows = list(read_table(file))
        except MunicipalityTableError as exc:
            raise CommandError(str(exc)) from exc
        if dry_run:
            self.stdout.write(f"{len(rows)} 件を検査しました（書き込みなし）")
            return
        with audit_context(None, "command:load_municipalities"):
            created, updated = load_rows(rows)
        self.stdout.write(self.style.SUCCESS(f"地方公共団体 {created} 件追加、{updated} 件更新"))
