"""Daily seals of the audit chain: the chain head at the end of a day, signed with the ward's Ed25519 key and written
as a small JSON file outside the database (AUDIT_SEAL_DIR; the backup keeps it) and as a `ChainSeal` row.

Why: the hash chain (audit/chain.py) catches a row changed or removed behind the application's back — unless the
person doing it owns the database, disables the trigger and recomputes every hash after the change. The seal file is
beyond their reach (another machine's disk, the backup) and its signature needs the ward's private key, which the
database does not hold. `verify_seals` compares every seal file with the database: the entry with the sealed id must
still carry the sealed hash, and exactly the sealed number of entries must lie up to it.

A seal file, once written, is never overwritten with different content (a second run writes the same bytes: Ed25519
signatures are deterministic). Written atomically: a temporary file in the same directory, fsync, rename.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from transfers.keys import ward_identity

from .chain import ChainProblem
from .models import GENESIS_HASH, AuditChainHead, AuditLogEntry, ChainSeal

FORMAT_VERSION = 2  # 2: the end of every lane of the chain is sealed too (1: one chain, read as before)
FILE_PREFIX = "audit-seal-"


def seal_dir() -> Path:
    return Path(settings.AUDIT_SEAL_DIR)


def seal_path(day: dt.date) -> Path:
    return seal_dir() / f"{FILE_PREFIX}{day.isoformat()}.json"


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after `day`, in the ward's time."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


@dataclass(frozen=True)
class Head:
    """The chain at the end of a day: the last entry written before midnight, how many entries lie up to it, and
    the last entry of every lane (audit/chain.py), so that rewriting and re-hashing any one lane is caught."""

    day: dt.date
    last_entry_id: int
    last_hash: str
    entry_count: int
    lanes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def statement(self) -> dict[str, Any]:
        """What is signed: no personal data, only ids, hashes and a count."""
        return {
            "format": FORMAT_VERSION,
            "ward": settings.WARD_LG_CODE,
            "sealed_on": self.day.isoformat(),
            "last_entry_id": self.last_entry_id,
            "last_hash": self.last_hash,
            "entry_count": self.entry_count,
            "lanes": self.lanes,
        }


def _lane_ends(before: dt.datetime) -> dict[str, dict[str, Any]]:
    """The last entry of each lane written before `before` (lanes without one are left out)."""
    ends: dict[str, dict[str, Any]] = {}
    lanes = set(AuditChainHead.objects.values_list("pk", flat=True))
    for lane in sorted(pk - 1 for pk in lanes):
        last = (
            AuditLogEntry.objects.filter(lane=lane, occurred_at__lt=before)
            .order_by("-pk")
            .values_list("pk", "entry_hash")
            .first()
        )
        if last is not None:
            ends[str(lane)] = {"last_entry_id": last[0], "last_hash": last[1]}
    return ends


def head_at(day: dt.date) -> Head:
    before = end_of_day(day)
    last = AuditLogEntry.objects.filter(occurred_at__lt=before).order_by("-pk").values_list("pk", "entry_hash").first()
    if last is None:
        return Head(day, 0, GENESIS_HASH, 0, {})
    count = AuditLogEntry.objects.filter(pk__lte=last[0]).count()
    return Head(day, last[0], last[1], count, _lane_ends(before))


def _canonical(statement: dict[str, Any]) -> bytes:
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _sign_key():
    return ward_identity().sign_key


def _public_key() -> Ed25519PublicKey:
    return _sign_key().public_key()


def sign_statement(statement: dict[str, Any]) -> str:
    """The ward's Ed25519 signature (base64) over the canonical form of `statement` (seals and the tail witness)."""
    return base64.b64encode(_sign_key().sign(_canonical(statement))).decode("ascii")


def public_key_text() -> str:
    """The ward's public key (base64), written into signed files for a reader's convenience only."""
    return base64.b64encode(_public_key().public_bytes_raw()).decode("ascii")


def statement_signed(statement: dict[str, Any], signature: str) -> bool:
    """Whether `signature` is the ward's over `statement` (checked with the ward's own key, never the file's)."""
    try:
        _public_key().verify(base64.b64decode(signature), _canonical(statement))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def seal_document(head: Head) -> bytes:
    """The file's bytes: the statement, its signature (base64) and, for a reader's convenience, the public key.
    Verification never trusts that key: it uses the ward's own."""
    statement = head.statement()
    signature, public = sign_statement(statement), public_key_text()
    document = {"seal": statement, "signature": signature, "algorithm": "Ed25519", "public_key": public}
    return (json.dumps(document, sort_keys=True, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def _row_key(row: ChainSeal) -> tuple[int, str, int, dict[str, Any]]:
    return (row.last_entry_id, row.last_hash, row.entry_count, row.lanes or {})


class SealConflict(Exception):
    """A seal for that day exists with different content: never overwritten (the difference is itself evidence)."""


@dataclass(frozen=True)
class SealResult:
    day: dt.date
    head: Head
    written: bool  # False: the same seal existed already (a re-run), or a dry run
    path: Path


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".seal-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o444)
        # link() refuses to replace: a file that appeared meanwhile is never overwritten.
        os.link(tmp, path)
    finally:
        os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def seal_day(day: dt.date, *, dry_run: bool = False) -> SealResult:
    """Seal `day` (which must have ended): the file first, then the row. Re-running writes nothing new; a seal
    that exists with other content raises SealConflict."""
    if day >= timezone.localdate():
        raise ValueError("封印できるのは終わった日だけです。")
    head = head_at(day)
    path = seal_path(day)
    content = seal_document(head)
    existing_row = ChainSeal.objects.filter(sealed_on=day).first()
    if existing_row is not None and _row_key(existing_row) != (
        head.last_entry_id,
        head.last_hash,
        head.entry_count,
        head.lanes,
    ):
        raise SealConflict(f"{day} の封印（データベース）が現在のチェーンと一致しません。")
    if path.exists():
        if path.read_bytes() != content:
            raise SealConflict(f"{day} の封印ファイルが既にあり、内容が現在のチェーンと一致しません。")
        written = False
    elif dry_run:
        written = False
    else:
        _write_atomically(path, content)
        written = True
    if existing_row is None and not dry_run:
        with transaction.atomic():
            ChainSeal.objects.create(
                sealed_on=day,
                last_entry_id=head.last_entry_id,
                last_hash=head.last_hash,
                entry_count=head.entry_count,
                lanes=head.lanes,
                signature=json.loads(content)["signature"],
                file_path=str(path),
            )
    return SealResult(day, head, written, path)


def days_to_seal(today: dt.date | None = None) -> list[dt.date]:
    """Every day after the newest seal up to yesterday (a night beat missed is caught up); only yesterday when
    there is no seal yet."""
    yesterday = (today or timezone.localdate()) - dt.timedelta(days=1)
    newest = ChainSeal.objects.order_by("-sealed_on").values_list("sealed_on", flat=True).first()
    if newest is None:
        return [yesterday]
    return [newest + dt.timedelta(days=n) for n in range(1, (yesterday - newest).days + 1)]


# --- Verification ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealFile:
    path: Path
    statement: dict[str, Any]
    signature: str


def _read(path: Path) -> SealFile:
    document = json.loads(path.read_text(encoding="ascii"))
    return SealFile(path, document["seal"], document["signature"])


def _signature_ok(seal: SealFile, public_key: Ed25519PublicKey) -> bool:
    try:
        public_key.verify(base64.b64decode(seal.signature), _canonical(seal.statement))
    except (InvalidSignature, ValueError):
        return False
    return True


def seal_files() -> list[Path]:
    folder = seal_dir()
    return sorted(folder.glob(f"{FILE_PREFIX}*.json")) if folder.exists() else []


def verify_seals() -> Iterator[ChainProblem]:
    """Check every seal file against the database (and every seal row against its file). Yields problems; the
    number of files checked is the caller's `len(seal_files())`."""
    paths = seal_files()
    rows = {seal.sealed_on: seal for seal in ChainSeal.objects.all()}
    if not paths and not rows:
        return
    public_key = _public_key()
    seen: set[dt.date] = set()
    checked: list[SealFile] = []
    for path in paths:
        try:
            seal = _read(path)
            day = dt.date.fromisoformat(seal.statement["sealed_on"])
        except (ValueError, KeyError, TypeError):
            yield ChainProblem(None, f"封印ファイル {path.name} が読めません（壊れているか改ざんされています）")
            continue
        seen.add(day)
        if not _signature_ok(seal, public_key):
            yield ChainProblem(None, f"{day} の封印の署名がこの区の鍵と一致しません（封印ファイルの改ざん）")
            continue
        row = rows.get(day)
        if row is not None and _row_key(row) != (
            seal.statement["last_entry_id"],
            seal.statement["last_hash"],
            seal.statement["entry_count"],
            seal.statement.get("lanes", {}),
        ):
            yield ChainProblem(None, f"{day} の封印の記録（データベース）が封印ファイルと一致しません")
        checked.append(seal)
    for day in sorted(set(rows) - seen):
        yield ChainProblem(None, f"{day} の封印ファイルがありません（{rows[day].file_path}）")
    yield from _against_chain(checked)


def _against_chain(seals: list[SealFile]) -> Iterator[ChainProblem]:
    """Each sealed entry still carries its hash, and the number of entries up to it is the sealed count. Counted
    between consecutive sealed ids, so that the whole check reads the id index once, however many seals there are."""
    counted_up_to, counted = 0, 0
    for seal in sorted(seals, key=lambda s: (s.statement["last_entry_id"], s.statement["sealed_on"])):
        day = seal.statement["sealed_on"]
        last_id, last_hash = seal.statement["last_entry_id"], seal.statement["last_hash"]
        if last_id:
            stored = AuditLogEntry.objects.filter(pk=last_id).values_list("entry_hash", flat=True).first()
            if stored is None:
                yield ChainProblem(last_id, f"{day} の封印が示す記録が削除されています")
                continue
            if stored != last_hash:
                yield ChainProblem(last_id, f"{day} の封印のハッシュと一致しません（封印後に書き換えられています）")
                continue
        yield from _lanes_against_chain(day, seal.statement.get("lanes", {}))
        counted += AuditLogEntry.objects.filter(pk__gt=counted_up_to, pk__lte=last_id).count()
        counted_up_to = max(counted_up_to, last_id)
        if counted != seal.statement["entry_count"]:
            yield ChainProblem(
                last_id or None,
                f"{day} の封印までの件数が一致しません（封印 {seal.statement['entry_count']} 件、現在 {counted} 件）",
            )


def _lanes_against_chain(day: str, lanes: dict[str, dict[str, Any]]) -> Iterator[ChainProblem]:
    """Each lane's sealed last entry still exists, still carries its hash and is still in that lane."""
    for lane, end in sorted(lanes.items(), key=lambda item: int(item[0])):
        stored = AuditLogEntry.objects.filter(pk=end["last_entry_id"]).values_list("entry_hash", "lane").first()
        if stored is None:
            yield ChainProblem(end["last_entry_id"], f"{day} の封印が示す記録（系列 {lane}）が削除されています")
        elif stored != (end["last_hash"], int(lane)):
            message = f"{day} の封印のハッシュと一致しません（系列 {lane}、封印後に書き換えられています）"
            yield ChainProblem(end["last_entry_id"], message)
