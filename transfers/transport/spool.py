"""Spool adapter: the CS-style directory of a partner (`Partner.spool_dir`).

    <spool_dir>/out/<message_id>.env   what we send (written atomically: a temporary name, then a rename)
    <spool_dir>/in/<anything>.ack      the partner's acknowledgements, read by `collect_acks`
    <spool_dir>/in/done/               acknowledgements processed
    <spool_dir>/in/rejected/           acknowledgements refused (bad signature, unknown message, …)

Messages *from* the partner (`in/*.env`) are the receiving side's business, not this module's.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..envelope import MAX_ENVELOPE_BYTES
from .base import TransportError

if TYPE_CHECKING:
    from ..models import Partner

OUT, IN, DONE, REJECTED = "out", "in", "done", "rejected"
ACK_SUFFIX = ".ack"
ENVELOPE_SUFFIX = ".env"


def _root(partner: Partner) -> Path:
    if not partner.spool_dir:
        raise TransportError("スプールディレクトリが登録されていません。", retryable=False)
    return Path(partner.spool_dir)


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a reader sees either nothing or the whole file (temp file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class SpoolTransport:
    def send(self, partner: Partner, message_id: str, envelope: bytes) -> None:
        target = _root(partner) / OUT / f"{message_id}{ENVELOPE_SUFFIX}"
        try:
            write_atomically(target, envelope)
        except OSError as exc:
            raise TransportError(f"スプールに書けません（{type(exc).__name__}）。") from None
        return


@dataclass(frozen=True)
class SpooledAck:
    path: Path
    raw: bytes


def collect_acks(partner: Partner, limit: int = 500) -> list[SpooledAck]:
    """The acknowledgement files waiting in `<spool_dir>/in/`, oldest first (at most `limit`). Files larger than an
    envelope may be are returned empty, so that the caller refuses them without reading them."""
    folder = _root(partner) / IN
    if not folder.is_dir():
        return []
    paths = sorted(
        (p for p in folder.iterdir() if p.suffix == ACK_SUFFIX and p.is_file() and not p.name.startswith(".")),
        key=lambda p: (p.stat().st_mtime, p.name),
    )[:limit]
    found = []
    for path in paths:
        try:
            raw = b"" if path.stat().st_size > MAX_ENVELOPE_BYTES else path.read_bytes()
        except FileNotFoundError:  # taken by another collector meanwhile
            continue
        found.append(SpooledAck(path, raw))
    return found


def archive(ack: SpooledAck, accepted: bool) -> Path | None:
    """Move a processed acknowledgement to in/done/ (or in/rejected/). None when another collector moved it first."""
    folder = ack.path.parent / (DONE if accepted else REJECTED)
    folder.mkdir(exist_ok=True)
    target = folder / ack.path.name
    try:
        os.replace(ack.path, target)
    except FileNotFoundError:
        return None
    return target
