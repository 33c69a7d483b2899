"""Print the SQL that gives the application's PostgreSQL role exactly its privileges (operations/db_grants.py,
docs/database-roles.md): no UPDATE, DELETE or TRUNCATE on the audit tables. Changes nothing itself: the owner
pipes it into psql after every migrate."""

from django.core.management.base import BaseCommand, CommandParser

from operations.db_grants import grant_sql


class Command(BaseCommand):
    help = "アプリケーション用のデータベースロールに与える権限（GRANT 文）を表示する（監査の表は追記のみ）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--app-role", default="ward_app", help="アプリケーションのロール名（既定: ward_app）")
        parser.add_argument("--owner-role", default="", help="所有者のロール名（指定すると既定の権限も設定する）")
        parser.add_argument("--schema", default="public", help="スキーマ（既定: public）")

    def handle(self, *args, app_role: str, owner_role: str, schema: str, **options) -> None:
        self.stdout.write("-- 監査の表は SELECT/INSERT のみ（UPDATE・DELETE・TRUNCATE なし）。所有者で実行する。")
        self.stdout.write("BEGIN;")
        for statement in grant_sql(app_role, owner_role=owner_role or None, schema=schema):
            self.stdout.write(statement)
        self.stdout.write("COMMIT;")
