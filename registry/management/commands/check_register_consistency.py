"""Nightly batch: check that 住民票, 附票 and 世帯 agree (registry.consistency). Exit status 1 when they do not."""

import sys

from django.core.management.base import BaseCommand, CommandParser

from common.context import audit_context
from registry.consistency import iter_inconsistencies


class Command(BaseCommand):
    help = "住民票・戸籍の附票・世帯の整合性を検査する（不整合があれば終了コード1）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=200, help="表示する件数の上限（件数は全件数える）")

    def handle(self, *args, limit: int, **options) -> None:
        count = 0
        with audit_context(None, "command:check_register_consistency"):
            for finding in iter_inconsistencies():
                count += 1
                if count <= limit:
                    self.stdout.write(str(finding))
        if count:
            self.stderr.write(self.style.ERROR(f"不整合 {count} 件"))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("不整合はありません"))
