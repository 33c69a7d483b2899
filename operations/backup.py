"""Backups of the database (PostgreSQL) and of the audit seals, encrypted at rest, with a manifest and rotation.

A backup set is one directory in BACKUP_DIR, named `ward-<UTC time>` so that names sort by age:

    ward-20261125T020000-123456Z/     (0700)
        database.dump.enc             pg_dump --format=custom, in the stream container (operations.stream_crypto)
        seals.tar.enc                 the audit seal directory (AUDIT_SEAL_DIR) as a tar, same container; absent
                                      when there is no seal directory
        manifest.json                 time, database, files (size, SHA-256 of the encrypted bytes), per-table row
                                      counts and checksums at dump time, key id; authenticated by an HMAC

The set is written in a `.incomplete-*` directory and renamed into place when complete (an interrupted backup never
looks like a backup). Files are 0600. The table counts and checksums are computed inside the very snapshot pg_dump
dumps (a REPEATABLE READ transaction exports its snapshot; `pg_dump --snapshot` uses it), so they describe the
dump exactly, whatever is written meanwhile.

Keys: BACKUP_KEY (base64 of 32 random bytes) or BACKUP_KEY_FILE (a file holding it); never inside BACKUP_DIR.
Each file is encrypted with its own key, HKDF-SHA256(BACKUP_KEY, salt = 16 random bytes in the file's header,
info = "ward-backup-v1 file"); the manifest's HMAC key is HKDF(BACKUP_KEY, info = "ward-backup-v1 manifest"); the
key id written in headers and manifest (to say "wrong key" instead of "tampered") is 8 bytes of HKDF(BACKUP_KEY,
info = "ward-backup-v1 key id"). A backup is restored by hand with `python manage.py restore_check --decrypt-to F`
(see README).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from . import pg
from .pg import OpsError
from .stream_crypto import EncryptingWriter, StreamError, b64, canonical, unb64

FORMAT = "ward-backup-v1"
DUMP_FILE = "database.dump.enc"
SEALS_FILE = "seals.tar.enc"
MANIFEST_FILE = "manifest.json"
SET_NAME = re.compile(r"^ward-\d{8}T\d{6}-\d{6}Z$")
INCOMPLETE_PREFIX = ".incomplete-"
STALE_INCOMPLETE_SECONDS = 86_400
READ_BLOCK = 1 << 20

Progress = Callable[..., Iterator[Any]]


def no_progress(items: Iterable[Any], **_: Any) -> Iterator[Any]:
    yield from items


# --- Keys ---------------------------------------------------------------------------------------------------


def backup_dir(override: str | Path | None = None) -> Path:
    return Path(override or settings.BACKUP_DIR)


def master_key(directory: Path | None = None) -> bytes:
    """BACKUP_KEY, or the content of BACKUP_KEY_FILE: base64 of 32 bytes. Refused when the key file lies inside the
    backup directory (a key beside the backups protects nothing)."""
    text = settings.BACKUP_KEY
    if not text and settings.BACKUP_KEY_FILE:
        path = Path(settings.BACKUP_KEY_FILE).resolve()
        for base in {backup_dir().resolve(), *([directory.resolve()] if directory else [])}:
            if path == base or base in path.parents:
                raise OpsError("鍵ファイルがバックアップと同じディレクトリにあります。別の場所に置いてください。")
        try:
            text = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise OpsError(f"鍵ファイル BACKUP_KEY_FILE を読めません（{type(exc).__name__}）。") from exc
    if not text:
        raise OpsError("BACKUP_KEY または BACKUP_KEY_FILE を設定してください（32バイトの乱数の base64）。")
    try:
        key = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise OpsError("バックアップの鍵が base64 ではありません。") from exc
    if len(key) != 32:
        raise OpsError(f"バックアップの鍵は32バイトです（{len(key)} バイトでした）。")
    return key


def _derive(master: bytes, info: bytes, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(master)


def key_id(master: bytes) -> str:
    return _derive(master, b"ward-backup-v1 key id")[:8].hex()


def file_key(master: bytes, salt: bytes) -> bytes:
    return _derive(master, b"ward-backup-v1 file", salt)


def manifest_mac(master: bytes, manifest: dict[str, Any]) -> str:
    body = canonical({key: value for key, value in manifest.items() if key != "mac"})
    return hmac.new(_derive(master, b"ward-backup-v1 manifest"), body, hashlib.sha256).hexdigest()


def new_file_fields(master: bytes, content: str) -> tuple[bytes, dict[str, Any]]:
    """A fresh per-file key and the header fields that let the holder of BACKUP_KEY derive it again."""
    salt = os.urandom(16)
    fields = {
        "purpose": "backup",
        "content": content,
        "kdf": "HKDF-SHA256",
        "salt": b64(salt),
        "key_id": key_id(master),
    }
    return file_key(master, salt), fields


def key_for(master: bytes) -> Callable[[dict[str, Any]], bytes]:
    """For stream_crypto.decrypt_stream: the file key of a backup file, or WRONG_KEY."""

    def resolve(fields: dict[str, Any]) -> bytes:
        if fields.get("purpose") != "backup" or fields.get("kdf") != "HKDF-SHA256":
            raise StreamError(StreamError.BAD_HEADER, "バックアップのファイルではありません")
        if fields.get("key_id") != key_id(master):
            raise StreamError(StreamError.WRONG_KEY)
        return file_key(master, unb64(fields.get("salt"), 16))

    return resolve


# --- Files ----------------------------------------------------------------------------------------------------


@contextmanager
def private_file(path: Path) -> Iterator[BinaryIO]:
    """A new file, 0600, flushed to disk on success."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)


def backup_sets(directory: Path) -> list[Path]:
    """The complete backup sets, oldest first."""
    if not directory.is_dir():
        return []
    return sorted(
        (path for path in directory.iterdir() if SET_NAME.match(path.name) and (path / MANIFEST_FILE).is_file()),
        key=lambda path: path.name,
    )


def rotate(directory: Path, keep: int, *, dry_run: bool = False) -> list[str]:
    """Remove all but the newest `keep` sets (and incomplete sets left by a crash a day ago); their names."""
    if keep < 1:
        raise OpsError("--keep は1以上です。")
    removed = backup_sets(directory)[:-keep]
    stale = [
        path
        for path in (directory.iterdir() if directory.is_dir() else [])
        if path.name.startswith(INCOMPLETE_PREFIX) and time.time() - path.stat().st_mtime > STALE_INCOMPLETE_SECONDS
    ]
    if not dry_run:
        for path in removed + stale:
            shutil.rmtree(path)
    return [path.name for path in removed]


def encrypt_file_into(source: BinaryIO, path: Path, master: bytes, content: str) -> dict[str, Any]:
    key, fields = new_file_fields(master, content)
    with private_file(path) as raw:
        writer = EncryptingWriter(raw, key, fields)
        for block in iter(lambda: source.read(READ_BLOCK), b""):
            writer.write(block)
        writer.close()
    return {"size": writer.size, "sha256": writer.sha256, "plain_size": writer.plaintext_size}


# --- The backup -----------------------------------------------------------------------------------------------


def _stamp(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S-%fZ")


def _tail(handle: BinaryIO) -> str:
    handle.seek(0)
    lines = [line for line in handle.read().decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _dump(tool: str, target: pg.Target, snapshot: str, path: Path, master: bytes, progress: Progress) -> dict:
    """pg_dump's output streamed through the encryption into `path`: no plaintext touches the disk."""
    key, fields = new_file_fields(master, "pg_dump custom")
    command = [tool, "--format=custom", f"--snapshot={snapshot}", "--no-password", f"--dbname={target.name}"]
    with tempfile.TemporaryFile() as errors, private_file(path) as raw:
        process = subprocess.Popen(  # noqa: S603 - our pg_dump, arguments we built
            command, stdout=subprocess.PIPE, stderr=errors, env=target.environment()
        )
        try:
            writer = EncryptingWriter(raw, key, fields)
            blocks = iter(lambda: process.stdout.read(READ_BLOCK), b"")
            for block in progress(blocks, desc="pg_dump", unit="MiB"):
                writer.write(block)
            code = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            process.stdout.close()
        if code != 0:
            raise OpsError(f"pg_dump が失敗しました（終了コード {code}）: {_tail(errors)}")
        writer.close()
    return {"size": writer.size, "sha256": writer.sha256, "plain_size": writer.plaintext_size}


def seal_dir() -> Path | None:
    configured = getattr(settings, "AUDIT_SEAL_DIR", None)
    return Path(configured) if configured and Path(configured).is_dir() else None


def _seals(path: Path, master: bytes) -> dict[str, Any] | None:
    """The audit seal directory as an encrypted tar; None when there is none."""
    directory = seal_dir()
    if directory is None:
        return None
    files = sorted(item for item in directory.rglob("*") if item.is_file())
    digests = {}
    with tempfile.TemporaryFile() as archive:
        with tarfile.open(fileobj=archive, mode="w") as tar:
            for item in files:
                name = f"seals/{item.relative_to(directory).as_posix()}"
                tar.add(item, arcname=name, recursive=False)
                digests[name] = hashlib.sha256(item.read_bytes()).hexdigest()
        archive.seek(0)
        stored = encrypt_file_into(archive, path, master, "tar")
    return {**stored, "count": len(files), "digests": digests}


def create_backup(
    target: pg.Target,
    directory: Path,
    master: bytes,
    *,
    progress: Progress = no_progress,
    now: dt.datetime | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Dump the database and the seals into a new set in `directory`; its path and manifest."""
    now = now or dt.datetime.now(dt.UTC)
    ensure_dir(directory)
    name = f"ward-{_stamp(now)}"
    if (directory / name).exists():
        raise OpsError(f"同じ名前のバックアップがあります: {name}")
    work = Path(tempfile.mkdtemp(prefix=INCOMPLETE_PREFIX, dir=directory))
    try:
        connection = pg.connect(target)
        try:
            connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            connection.read_only = True
            snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
            pg.stabilise(connection)
            major = pg.server_major(connection)
            dump_tool = pg.tool("pg_dump", major)
            names = pg.tables(connection)
            tables = {
                table: pg.table_checksum(connection, table)
                for table in progress(names, total=len(names), desc="件数と検査値", unit="表")
            }
            files = {DUMP_FILE: _dump(dump_tool, target, snapshot, work / DUMP_FILE, master, progress)}
            server_version = connection.info.parameter_status("server_version")
            connection.rollback()
        finally:
            connection.close()
        seals = _seals(work / SEALS_FILE, master)
        if seals is not None:
            files[SEALS_FILE] = {key: seals[key] for key in ("size", "sha256", "plain_size")}
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "name": name,
            "created_at": now.isoformat(timespec="seconds"),
            "database": {"name": target.name, "server_version": server_version},
            "pg_dump": f"{Path(dump_tool).name} {pg.tool_version(dump_tool)}",
            "key_id": key_id(master),
            "files": files,
            "seals": None if seals is None else {"count": seals["count"], "digests": seals["digests"]},
            "tables": tables,
            "totals": {"tables": len(tables), "rows": sum(item["rows"] for item in tables.values())},
        }
        manifest["mac"] = manifest_mac(master, manifest)
        with private_file(work / MANIFEST_FILE) as handle:
            handle.write(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8"))
        _fsync_dir(work)
        final = directory / name
        work.rename(final)
        _fsync_dir(directory)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return final, manifest
