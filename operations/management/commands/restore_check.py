"""`manage.py restore_check [--dir D] [--set NAME] [--decrypt-to FILE]`: restores the newest backup set (or NAME)
into a scratch database it creates and drops, and compares every table's row count and checksum with the set's
manifest. Exit code 0: the backup restores and matches; 1: it does not (damaged, tampered with, cut short,
different); 2: the check could not run. The live database's drift since the dump is reported, never a failure.

`--decrypt-to FILE [--part database|seals]` only decrypts the dump (or the seals' tar), checked chunk by chunk, into
FILE (0600) for a restore by hand with pg_restore (README: バックアップと復元の確認)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.db import connection

from common.batch import CRASHED, PROBLEMS, BatchCommand, BatchOutcome, Run
from operations import pg
from operations.backup import DUMP_FILE, SEALS_FILE, SET_NAME, backup_dir, master_key, private_file
from operations.pg import OpsError
from operations.restore import BackupInvalid, check_restore, decrypted, load_manifest, newest_set


class Command(BatchCommand):
    help = "最新のバックアップを確認用データベースに復元し、件数と検査値をマニフェストと比べます。"

    def add_batch_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", help="バックアップの置き場所（既定 BACKUP_DIR）")
        parser.add_argument("--set", dest="set_name", help="確認するバックアップの名前（既定は最新）")
        parser.add_argument("--decrypt-to", help="復号したダンプをこのファイルに書くだけ（手作業の復元用）")
        parser.add_argument(
            "--part",
            choices=("database", "seals"),
            default="database",
            help="--decrypt-to で書くもの: database（pg_dump のダンプ）か seals（封印ファイルの tar）",
        )

    def run_batch(self, run: Run, **options: Any) -> BatchOutcome:
        directory = backup_dir(options.get("dir"))
        try:
            master = master_key(directory)
            path = self._set(directory, options.get("set_name"))
            if options.get("decrypt_to"):
                part = SEALS_FILE if options.get("part") == "seals" else DUMP_FILE
                return self._decrypt(path, part, master, Path(options["decrypt_to"]), run)
            if not pg.is_postgresql(connection.settings_dict):
                return BatchOutcome("復元の確認は PostgreSQL だけに対応しています。", CRASHED)
            report = check_restore(pg.target_from(connection.settings_dict), path, master, progress=run.progress)
        except BackupInvalid as exc:
            return BatchOutcome(f"バックアップに問題があります: {exc}", PROBLEMS, {"problems": 1})
        except OpsError as exc:
            return BatchOutcome(f"復元を確認できませんでした: {exc}", CRASHED)
        counts = {"tables": report.tables, "rows": report.rows, "mismatches": len(report.mismatches)}
        counts["drifted_tables"] = len(report.drift)
        drift = f"ダンプ以後に変わった表 {len(report.drift)}（参考）"
        if report.drift:
            self.stdout.write("ダンプ以後の変化（参考・失敗ではありません）:\n  " + "\n  ".join(report.drift))
        seals = "" if report.seals is None else f"、封印ファイル {report.seals} 件一致"
        if not report.ok:
            self.stderr.write("マニフェストとの違い:\n  " + "\n  ".join(report.mismatches))
            return BatchOutcome(
                f"{report.name} の復元はマニフェストと一致しません: {len(report.mismatches)} 表が違います。{drift}。",
                PROBLEMS,
                counts,
            )
        return BatchOutcome(
            f"{report.name} を復元し、{report.tables} 表・{report.rows} 行が"
            f"マニフェストと一致しました{seals}。{drift}。",
            counts=counts,
        )

    @staticmethod
    def _set(directory: Path, name: str | None) -> Path:
        if not name:
            return newest_set(directory)
        if not SET_NAME.match(name) or not (directory / name).is_dir():
            raise OpsError(f"バックアップ {name} がありません。")
        return directory / name

    @staticmethod
    def _decrypt(path: Path, part: str, master: bytes, out: Path, run: Run) -> BatchOutcome:
        manifest = load_manifest(path, master)
        if part not in manifest["files"]:
            raise OpsError(f"{path.name} に {part} はありません。")
        if out.exists():
            raise OpsError(f"{out} はすでにあります。")
        try:
            with private_file(out) as handle:
                for chunk in run.progress(decrypted(path / part, master, manifest["files"][part])):
                    handle.write(chunk)
        except BaseException:
            out.unlink(missing_ok=True)
            raise
        if part == SEALS_FILE:
            return BatchOutcome(f"{path.name} の封印ファイルを {out} に復号しました（tar で展開できます）。")
        return BatchOutcome(f"{path.name} のダンプを {out} に復号しました（pg_restore で復元できます）。")
