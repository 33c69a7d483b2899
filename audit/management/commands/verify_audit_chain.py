"""Verify the audit log's hash chain: exit 0 when intact, 1 naming the first bad entry otherwise."""

import sys

from django.core.management.base import BaseCommand

from audit.chain import verify
from audit.models import AuditLogEntry


class Command(BaseCommand):
    help = "監査ログのハッシュチェーンを検証する（改ざん・削除があれば最初の記録を示して終了コード1）"

    def handle(self, *args, **options) -> None:
        problems = list(verify())
        if problems:
            for problem in problems:
                self.stderr.write(self.style.ERROR(str(problem)))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"監査ログ {AuditLogEntry.objects.count()} 件: チェーンは完全です"))
