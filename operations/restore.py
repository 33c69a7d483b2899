"""The restore check: a backup that was never restored is not a backup.

`check_restore` takes a backup set (operations.backup), checks its manifest's HMAC, decrypts the dump chunk by chunk
straight into `pg_restore` (no plaintext on disk) restoring a scratch database it creates and drops, and compares
every table's row count and checksum with the manifest. The audit seals are decrypted and compared file by file.
Separately, the live database's drift since the dump is reported (tables whose count or checksum changed): normal
for a working register, never a failure.

`BackupInvalid` (exit code 1) is a backup that is damaged, tampered with, cut short or does not match its manifest;
`OpsError` (exit code 2) is a check that could not run (configuration, tools, database rights).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
from django.conf import settings
from psycopg import sql

from . import pg
from .backup import (
    DUMP_FILE,
    FORMAT,
    MANIFEST_FILE,
    SEALS_FILE,
    Progress,
    backup_sets,
    key_for,
    key_id,
    manifest_mac,
    no_progress,
)
from .pg import OpsError
from .stream_crypto import StreamError, decrypt_stream

SCRATCH_PREFIX = "ward_restore_check_"


class BackupInvalid(Exception):
    """The backup itself is bad. Japanese message."""


@dataclass
class RestoreReport:
    name: str
    tables: int = 0
    rows: int = 0
    mismatches: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    seals: int | None = None

    @property
    def ok(self) -> bool:
        return not self.mismatches


class HashingReader:
    """Reads through to a file, hashing (SHA-256) what was read."""

    def __init__(self, source: BinaryIO) -> None:
        self.source = source
        self.sha256 = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.source.read(n)
        self.sha256.update(data)
        return data

    def drain(self) -> str:
        for _block in iter(lambda: self.read(1 << 20), b""):
            pass
        return self.sha256.hexdigest()


def newest_set(directory: Path) -> Path:
    sets = backup_sets(directory)
    if not sets:
        raise OpsError(f"バックアップがありません（{directory}）。")
    return sets[-1]


def load_manifest(path: Path, master: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupInvalid("マニフェストを読めません。") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupInvalid("マニフェストの形式が違います。")
    if manifest.get("key_id") != key_id(master):
        raise OpsError("鍵が違います（このバックアップを作った BACKUP_KEY ではありません）。")
    if not hmac.compare_digest(str(manifest.get("mac", "")), manifest_mac(master, manifest)):
        raise BackupInvalid("マニフェストが改ざんされています（HMAC が一致しません）。")
    return manifest


def decrypted(path: Path, master: bytes, expected: dict[str, Any]) -> Iterator[bytes]:
    """The plaintext chunks of a backup file; at the end, the file's SHA-256 is compared with the manifest's."""
    with path.open("rb") as raw:
        reader = HashingReader(raw)
        try:
            yield from decrypt_stream(reader, key_for(master))
        except StreamError as exc:
            if exc.code == StreamError.WRONG_KEY:
                raise OpsError(f"{path.name}: {exc.message}") from exc
            raise BackupInvalid(f"{path.name}: {exc.message}") from exc
        if reader.drain() != expected.get("sha256"):
            raise BackupInvalid(f"{path.name}: ハッシュがマニフェストと一致しません。")


def compare(expected: dict[str, dict[str, Any]], actual: dict[str, dict[str, Any]]) -> list[str]:
    """Per-table differences, by table name and numbers only."""
    out = []
    for table in sorted(set(expected) | set(actual)):
        if table not in actual:
            out.append(f"{table}: 表がありません")
        elif table not in expected:
            out.append(f"{table}: マニフェストにない表です")
        elif expected[table]["rows"] != actual[table]["rows"]:
            out.append(f"{table}: 件数 {expected[table]['rows']} → {actual[table]['rows']}")
        elif expected[table]["checksum"] != actual[table]["checksum"]:
            out.append(f"{table}: 件数は同じ {actual[table]['rows']} 件、検査値が違います")
    return out


def checksums(connection: psycopg.Connection, progress: Progress = no_progress, desc: str = "") -> dict:
    pg.stabilise(connection)
    names = pg.tables(connection)
    return {name: pg.table_checksum(connection, name) for name in progress(names, total=len(names), desc=desc)}


def _restore(tool: str, target: pg.Target, scratch: str, chunks: Iterator[bytes], progress: Progress) -> None:
    command = [tool, "--no-owner", "--no-privileges", "--exit-on-error", "--no-password", f"--dbname={scratch}"]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 - our pg_restore, arguments we built
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=target.environment(scratch),
        )
        try:
            try:
                for chunk in progress(chunks, desc="pg_restore", unit="ブロック"):
                    process.stdin.write(chunk)
            except BrokenPipeError:
                pass  # pg_restore stopped: its exit code and message say why
            finally:
                try:
                    process.stdin.close()
                except BrokenPipeError:
                    pass
            code = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            raise
        if code != 0:
            errors.seek(0)
            lines = [line for line in errors.read().decode("utf-8", "replace").splitlines() if line.strip()]
            raise BackupInvalid(f"pg_restore が失敗しました（終了コード {code}）: {(lines or [''])[-1][:300]}")


def _check_seals(path: Path, master: bytes, manifest: dict[str, Any]) -> int | None:
    expected = manifest.get("seals")
    if expected is None:
        return None
    if not (path / SEALS_FILE).is_file():
        raise BackupInvalid(f"{SEALS_FILE} がありません。")
    archive = io.BytesIO(b"".join(decrypted(path / SEALS_FILE, master, manifest["files"][SEALS_FILE])))
    found = {}
    with tarfile.open(fileobj=archive, mode="r") as tar:
        for member in tar.getmembers():
            if member.isfile():
                found[member.name] = hashlib.sha256(tar.extractfile(member).read()).hexdigest()
    if found != expected["digests"]:
        raise BackupInvalid("監査の封印ファイルがマニフェストと一致しません。")
    return len(found)


def _database_locale(connection: psycopg.Connection, name: str) -> tuple[str, str, str]:
    row = connection.execute(
        "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database WHERE datname = %s", [name]
    ).fetchone()
    if row is None:
        raise OpsError("データベースの文字コードを読めません。")
    return row


def check_restore(target: pg.Target, path: Path, master: bytes, *, progress: Progress = no_progress) -> RestoreReport:
    """Restore the set at `path` into a scratch database and compare it with its manifest; then the live drift."""
    manifest = load_manifest(path, master)
    report = RestoreReport(name=path.name)
    if not (path / DUMP_FILE).is_file():
        raise BackupInvalid(f"{DUMP_FILE} がありません。")
    report.seals = _check_seals(path, master, manifest)  # the cheap check first
    admin = pg.connect(target, settings.BACKUP_MAINTENANCE_DB, autocommit=True)
    scratch = f"{SCRATCH_PREFIX}{uuid.uuid4().hex[:12]}"
    try:
        tool = pg.tool("pg_restore", pg.server_major(admin))
        encoding, collate, ctype = _database_locale(admin, target.name)
        try:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING {} LC_COLLATE {} LC_CTYPE {}").format(
                    sql.Identifier(scratch), sql.Literal(encoding), sql.Literal(collate), sql.Literal(ctype)
                )
            )
        except psycopg.Error as exc:
            raise OpsError(
                f"確認用のデータベースを作れません（CREATEDB 権限が必要です: {type(exc).__name__}）。"
            ) from exc
        try:
            _restore(tool, target, scratch, decrypted(path / DUMP_FILE, master, manifest["files"][DUMP_FILE]), progress)
            with pg.connect(target, scratch, autocommit=True) as restored_db:
                restored = checksums(restored_db, progress, "復元後の検査値")
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))
    finally:
        admin.close()
    report.mismatches = compare(manifest["tables"], restored)
    report.tables = len(restored)
    report.rows = sum(item["rows"] for item in restored.values())
    with pg.connect(target) as live:
        live.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        live.read_only = True
        report.drift = compare(manifest["tables"], checksums(live, progress, "現在の検査値"))
        live.rollback()
    return report
