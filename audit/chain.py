"""Appending to the audit chain and verifying it."""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import GENESIS_HASH, AuditChainHead, AuditLogEntry

HASHED_FIELDS = (
    "occurred_at",
    "category",
    "action",
    "outcome",
    "user_id",
    "username",
    "remote_addr",
    "session_hash",
    "request_id",
    "method",
    "path",
    "subject_kind",
    "subject_ids",
    "conditions",
    "prev_hash",
)
VERIFY_CHUNK = 5_000


def content_hash(values: dict[str, Any]) -> str:
    canonical = json.dumps(
        {name: values[name] for name in HASHED_FIELDS},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _values(entry: AuditLogEntry) -> dict[str, Any]:
    values = {name: getattr(entry, name) for name in HASHED_FIELDS}
    values["occurred_at"] = entry.occurred_at.isoformat(timespec="microseconds")
    return values


def append(**fields: Any) -> AuditLogEntry:
    """Append one entry. Runs in its own transaction (or savepoint), holding the chain head's row lock."""
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        entry = AuditLogEntry(occurred_at=timezone.now(), **fields)
        entry.prev_hash = head.last_hash
        entry.entry_hash = content_hash(_values(entry))
        entry.save()
        head.last_entry_id = entry.pk
        head.last_hash = entry.entry_hash
        head.save(update_fields=["last_entry_id", "last_hash"])
    return entry


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int | None
    message: str

    def __str__(self) -> str:
        where = f"#{self.entry_id}" if self.entry_id is not None else "末尾"
        return f"監査ログ {where}: {self.message}"


def verify() -> Iterator[ChainProblem]:
    """Walk the chain in id order; yield the first break found (and stop there: later rows cannot be trusted)."""
    expected_prev = GENESIS_HASH
    last_id = 0
    count = 0
    while True:
        chunk = list(AuditLogEntry.objects.filter(pk__gt=last_id).order_by("pk")[:VERIFY_CHUNK])
        if not chunk:
            break
        for entry in chunk:
            count += 1
            if entry.prev_hash != expected_prev:
                yield ChainProblem(entry.pk, "前の記録とつながっていません（前の記録が削除または改ざんされています）")
                return
            if content_hash(_values(entry)) != entry.entry_hash:
                yield ChainProblem(entry.pk, "内容がハッシュと一致しません（この記録が改ざんされています）")
                return
            expected_prev = entry.entry_hash
            last_id = entry.pk
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_hash != expected_prev or head.last_entry_id != last_id):
        yield ChainProblem(head.last_entry_id or None, "末尾の記録が削除されています（末尾の記録と一致しません）")
    elif head is None and count:
        yield ChainProblem(None, "チェーンの末尾情報がありません")
