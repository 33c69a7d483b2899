"""`manage.py backup [--dir D] [--keep N] [--dry-run]`: an encrypted backup set of the database (pg_dump) and the
audit seals in BACKUP_DIR, then rotation (the newest N sets are kept). PostgreSQL only: on SQLite it says so and
ends with exit code 2 (copy var/db.sqlite3 while nothing runs). See operations.backup and the README."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser
from django.db import connection

from common.batch import CRASHED, BatchCommand, BatchOutcome, Run
from operations import pg
from operations.backup import backup_dir, backup_sets, create_backup, master_key, rotate
from operations.pg import OpsError


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BatchCommand):
    help = "データベース（pg_dump）と監査の封印ファイルを暗号化してバックアップし、古いものを消します。"
    supports_dry_run = True

    def add_batch_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", help="バックアップの置き場所（既定 BACKUP_DIR）")
        parser.add_argument("--keep", type=_positive, default=None, help="残す世代数（既定 BACKUP_KEEP = 14）")

    def run_batch(self, run: Run, **options: Any) -> BatchOutcome:
        directory = backup_dir(options.get("dir"))
        keep = options.get("keep") or settings.BACKUP_KEEP
        if not pg.is_postgresql(connection.settings_dict):
            return BatchOutcome(
                "バックアップは PostgreSQL だけに対応しています"
                "（SQLite では停止中に var/db.sqlite3 を写してください）。",
                CRASHED,
            )
        try:
            master = master_key(directory)
            if run.dry_run:
                gone = rotate(directory, keep, dry_run=True) if backup_sets(directory) else []
                target = pg.target_from(connection.settings_dict)
                return BatchOutcome(
                    f"{target.name} を {directory} にバックアップする予定です。"
                    f"世代 {len(backup_sets(directory))} → 消す予定 {len(gone)}。",
                    counts={"would_remove": len(gone)},
                )
            path, manifest = create_backup(
                pg.target_from(connection.settings_dict), directory, master, progress=run.progress
            )
            removed = rotate(directory, keep)
        except OpsError as exc:
            return BatchOutcome(f"バックアップできませんでした: {exc}", CRASHED)
        size = manifest["files"]["database.dump.enc"]["size"]
        seals = manifest["seals"]["count"] if manifest["seals"] else 0
        return BatchOutcome(
            f"バックアップ {path.name} を作成しました（{manifest['totals']['tables']} 表・"
            f"{manifest['totals']['rows']} 行、{size} バイト、封印ファイル {seals} 件）。"
            f"古い世代を {len(removed)} 件消しました。",
            counts={
                "tables": manifest["totals"]["tables"],
                "rows": manifest["totals"]["rows"],
                "bytes": size,
                "seals": seals,
                "removed": len(removed),
            },
        )
