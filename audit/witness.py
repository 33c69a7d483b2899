"""The tail witness of the audit chain: every minute, the end of each lane (last entry id, its hash, the number of
entries of the lane up to it) and the time, signed with the ward's Ed25519 key and written as one file in the seal
directory (AUDIT_SEAL_DIR), outside the database.

Why: the daily seals (audit/seals.py) cover the chain up to the end of yesterday. An owner of the database who
deletes today's last entries and moves the lane's end back (audit_auditchainhead) leaves a chain that is complete in
itself. The witness is beyond their reach and names an entry that must still be there, with that hash, no later
than a minute after it was written: `verify_audit_chain` reports a lane that ends before the witnessed entry, or
whose witnessed entry was removed or rewritten.

The witness only moves forward: before writing a new one, the writer checks the chain against the previous witness
and, when the chain no longer reaches it (or the file is not the ward's), writes nothing and reports it, so that the
evidence stays in place. The count of each lane is carried forward from the previous witness (plus the entries
written since), so that writing it every minute reads only the last minute's rows.

Written atomically: a temporary file in the same directory, fsync, rename over the previous witness; the writers
(the beat task every minute and seal_audit_chain) take turns through a lock on the directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from . import seals
from .chain import ChainProblem
from .models import AuditChainHead, AuditLogEntry

FORMAT_VERSION = 1
WITNESS_FILE = "audit-witness.json"


def witness_path() -> Path:
    return seals.seal_dir() / WITNESS_FILE


@dataclass(frozen=True)
class Witness:
    """A witness file as read: the signed statement and its signature (not yet checked)."""

    path: Path
    statement: dict[str, Any]
    signature: str

    @property
    def witnessed_at(self) -> str:
        return str(self.statement.get("witnessed_at", "?"))

    @property
    def lanes(self) -> dict[str, dict[str, Any]]:
        return self.statement.get("lanes", {})


class WitnessUnreadable(Exception):
    """The witness file exists but is not a witness (broken JSON, missing keys)."""


def read_witness(path: Path | None = None) -> Witness | None:
    """The witness file, or None when there is none yet."""
    path = path or witness_path()
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise WitnessUnreadable(str(path)) from exc
    try:
        document = json.loads(text)
        witness = Witness(path, document["witness"], document["signature"])
        if not isinstance(witness.statement, dict) or not isinstance(witness.lanes, dict):
            raise TypeError("statement")
        for lane, end in witness.lanes.items():
            int(lane), int(end["last_entry_id"]), str(end["last_hash"]), int(end["entry_count"])
    except (ValueError, KeyError, TypeError) as exc:
        raise WitnessUnreadable(str(path)) from exc
    return witness


def _authentic(witness: Witness) -> ChainProblem | None:
    """None when the file is the ward's own witness; else the problem to report."""
    if not seals.statement_signed(witness.statement, witness.signature):
        message = f"末尾の証跡（{witness.witnessed_at}）の署名がこの区の鍵と一致しません（証跡の改ざん）"
        return ChainProblem(None, message)
    if witness.statement.get("ward") != settings.WARD_LG_CODE:
        return ChainProblem(None, f"末尾の証跡（{witness.witnessed_at}）は他の団体のものです")
    return None


def _unreadable() -> ChainProblem:
    return ChainProblem(None, f"末尾の証跡ファイル {WITNESS_FILE} が読めません（壊れているか改ざんされています）")


def tail_problems(witness: Witness, *, count: bool = True) -> Iterator[ChainProblem]:
    """The chain against an authentic witness: each witnessed lane end still exists with its hash in its lane, the
    lane's end has not moved back before it, and (`count`) exactly the witnessed number of the lane's entries lie up
    to it. The count reads every entry of the lane: the nightly verification does it, the minute's writer not."""
    at = witness.witnessed_at
    heads = dict(AuditChainHead.objects.values_list("pk", "last_entry_id"))
    for lane_key, end in sorted(witness.lanes.items(), key=lambda item: int(item[0])):
        lane, last_id = int(lane_key), int(end["last_entry_id"])
        stored = AuditLogEntry.objects.filter(pk=last_id).values_list("entry_hash", "lane").first()
        if stored is None:
            message = f"末尾の証跡（{at}）が示す記録（系列 {lane}）が削除されています（末尾の切り詰め）"
            yield ChainProblem(last_id, message)
            continue
        if stored != (end["last_hash"], lane):
            message = f"末尾の証跡（{at}）のハッシュと一致しません（系列 {lane}、証跡の後に書き換え）"
            yield ChainProblem(last_id, message)
            continue
        head_id = heads.get(lane + 1) or 0
        if head_id < last_id:
            message = f"系列 {lane} の末尾（#{head_id}）が証跡（{at}）の記録より前で終わっています（末尾の切り詰め）"
            yield ChainProblem(last_id, message)
            continue
        if count:
            counted = AuditLogEntry.objects.filter(lane=lane, pk__lte=last_id).count()
            if counted != int(end["entry_count"]):
                message = (
                    f"末尾の証跡（{at}）までの件数が一致しません"
                    f"（系列 {lane}、証跡 {end['entry_count']} 件、現在 {counted} 件）"
                )
                yield ChainProblem(last_id, message)


def verify_witness() -> Iterator[ChainProblem]:
    """The newest witness against the chain (verify_audit_chain). No witness is a problem once the chain has been
    sealed (the seal command writes one, and beat every minute after it)."""
    try:
        witness = read_witness()
    except WitnessUnreadable:
        yield _unreadable()
        return
    if witness is None:
        if seals.seal_files():
            yield ChainProblem(None, f"末尾の証跡ファイルがありません（{witness_path()}）")
        return
    problem = _authentic(witness)
    if problem is not None:
        yield problem
        return
    yield from tail_problems(witness)


# --- Writing -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WitnessResult:
    written: bool
    path: Path
    statement: dict[str, Any] = field(default_factory=dict)
    problems: list[ChainProblem] = field(default_factory=list)


def _lane_ends(previous: Witness | None) -> dict[str, dict[str, Any]]:
    """The committed end of every lane that has entries. Entries of one lane are appended one after another under
    the lane's lock (audit/chain.py), so every entry of the lane up to the end read here is committed: the count up
    to it is exact. Counted from the previous witness on (its count carried forward), reading only the new rows."""
    before = previous.lanes if previous is not None else {}
    ends: dict[str, dict[str, Any]] = {}
    for pk, last_id, last_hash in AuditChainHead.objects.order_by("pk").values_list("pk", "last_entry_id", "last_hash"):
        if not last_id:
            continue
        lane = pk - 1
        old = before.get(str(lane))
        if old is not None and int(old["last_entry_id"]) <= last_id:
            since = AuditLogEntry.objects.filter(lane=lane, pk__gt=int(old["last_entry_id"]), pk__lte=last_id)
            entry_count = int(old["entry_count"]) + since.count()
        else:
            entry_count = AuditLogEntry.objects.filter(lane=lane, pk__lte=last_id).count()
        ends[str(lane)] = {"last_entry_id": last_id, "last_hash": last_hash, "entry_count": entry_count}
    return ends


def document_bytes(statement: dict[str, Any]) -> bytes:
    document = {
        "witness": statement,
        "signature": seals.sign_statement(statement),
        "algorithm": "Ed25519",
        "public_key": seals.public_key_text(),
    }
    return (json.dumps(document, sort_keys=True, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def _replace_atomically(path: Path, content: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".witness-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o444)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def _writers_take_turns(folder: Path) -> Iterator[None]:
    """An exclusive lock on the directory itself: the beat task and the seal command never interleave their
    check-then-write (no lock file to leave behind)."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(dir_fd)  # releases the lock


def write_witness() -> WitnessResult:
    """Witness the chain's tail now. Refuses (writes nothing, returns the problems) when the previous witness is not
    the ward's or the chain no longer reaches it: the old witness stays as the evidence."""
    path = witness_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _writers_take_turns(path.parent):
        try:
            previous = read_witness(path)
        except WitnessUnreadable:
            return WitnessResult(False, path, problems=[_unreadable()])
        if previous is not None:
            problem = _authentic(previous)
            problems = [problem] if problem is not None else list(tail_problems(previous, count=False))
            if problems:
                return WitnessResult(False, path, problems=problems)
        statement = {
            "format": FORMAT_VERSION,
            "ward": settings.WARD_LG_CODE,
            "witnessed_at": timezone.localtime().isoformat(timespec="seconds"),
            "lanes": _lane_ends(previous),
        }
        _replace_atomically(path, document_bytes(statement))
    return WitnessResult(True, path, statement)
