"""Appending to the audit chain and verifying it."""

import functools
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .chain_hash import HASHED_FIELDS, content_hash
from .models import GENESIS_HASH, AuditChainHead, AuditLogEntry

VERIFY_CHUNK = 20_000


def _values(entry: AuditLogEntry) -> dict[str, Any]:
    values = {name: getattr(entry, name) for name in HASHED_FIELDS}
    values["occurred_at"] = entry.occurred_at.isoformat(timespec="microseconds")
    return values


def lane_count() -> int:
    return max(1, int(getattr(settings, "AUDIT_CHAIN_LANES", 1)))


def _preferred_lane(lanes: int) -> int:
    """Where this thread tries first: the lane it used last on this connection (it may still hold that lane's lock
    in an enclosing transaction, and its own lock is never skipped), else one spread by process and thread."""
    previous = getattr(connection, "_audit_chain_lane", None)
    if previous is not None and previous < lanes:
        return previous
    return (os.getpid() * 31 + threading.get_ident()) % lanes


def _lock_head(lanes: int) -> AuditChainHead:
    """Lock the end of a lane that no other transaction holds (SKIP LOCKED), trying the preferred lane first; when
    every lane is busy, wait for the preferred one. A transaction waits only while it holds no lane itself (its own
    lock is never skipped), so two appenders never wait for each other's lanes."""
    first = _preferred_lane(lanes)
    if lanes > 1 and connection.features.has_select_for_update_skip_locked:
        for step in range(lanes):
            lane = (first + step) % lanes
            head = AuditChainHead.objects.select_for_update(skip_locked=True).filter(pk=lane + 1).first()
            if head is not None:
                return head
            if not AuditChainHead.objects.filter(pk=lane + 1).exists():  # a lane added by settings: make its end
                return AuditChainHead.objects.select_for_update().get_or_create(pk=lane + 1)[0]
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=first + 1)
    return head


NUL_SHOWN_AS = "\u2400"  # ␀: PostgreSQL stores no NUL in text or jsonb; what was typed stays visible


def _storable(value: Any) -> Any:
    """The value with every NUL character in its strings (keys included) shown as ␀: a clerk's typed search
    conditions are recorded as typed, and a NUL in them must not make the request fail (found by the screen fuzzer)."""
    if isinstance(value, str):
        return value.replace("\x00", NUL_SHOWN_AS) if "\x00" in value else value
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value


def append(**fields: Any) -> AuditLogEntry:
    """Append one entry to a free lane of the chain. Runs in its own transaction (or savepoint), holding that lane's
    end locked until the enclosing transaction ends: entries of one lane chain one after another, in id order."""
    fields = {name: value if name == "user" else _storable(value) for name, value in fields.items()}
    lanes = lane_count()
    with transaction.atomic():
        if connection.vendor == "postgresql" and lanes > 1:
            entry = _append_postgresql(lanes, fields)
        else:
            head = _lock_head(lanes)
            entry = _next_entry(head.pk, head.last_hash, fields)
            entry.save()
            head.last_entry_id = entry.pk
            head.last_hash = entry.entry_hash
            head.save(update_fields=["last_entry_id", "last_hash"])
    connection._audit_chain_lane = entry.lane
    return entry


def _next_entry(head_pk: int, last_hash: str, fields: dict[str, Any]) -> AuditLogEntry:
    """The entry that follows `last_hash` in the lane whose end is row `head_pk`, with its hash (not yet saved)."""
    entry = AuditLogEntry(occurred_at=timezone.now(), lane=head_pk - 1, prev_hash=last_hash, **fields)
    entry.entry_hash = content_hash(_values(entry))
    return entry


# --- PostgreSQL: the same append in two statements (it runs for every request that shows personal data) ----------

_LOCK_FREE_LANE = (
    "SELECT id, last_hash FROM audit_auditchainhead WHERE id <= %(lanes)s "
    "ORDER BY (id - 1 - %(first)s + %(lanes)s) %% %(lanes)s LIMIT 1 FOR UPDATE SKIP LOCKED"
)
_ENSURED: set[tuple[str, int]] = set()


@functools.cache
def _insert_sql() -> tuple[str, list]:
    """The statement that inserts an entry and moves its lane's end (built once: it runs on every request)."""
    fields = [f for f in AuditLogEntry._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    # Table and column names come from the models' own meta, quoted; every value is a parameter.
    entries, heads = quote(AuditLogEntry._meta.db_table), quote(AuditChainHead._meta.db_table)
    sql = (
        f"WITH entry AS (INSERT INTO {entries} ({columns}) VALUES ({values}) RETURNING id) "  # noqa: S608
        f"UPDATE {heads} SET last_entry_id = entry.id, last_hash = %s FROM entry "
        f"WHERE {heads}.id = %s RETURNING entry.id"
    )
    return sql, fields


def _append_postgresql(lanes: int, fields: dict[str, Any]) -> AuditLogEntry:
    """Lock the first free lane in the order of preference with one SKIP LOCKED query (every lane busy, or a lane
    without its row: the general path of `_lock_head`), then insert the entry and move the lane's end in one
    statement. What is written is what `Model.save()` would write: each value prepared by its field."""
    key = (connection.alias, lanes)
    if key not in _ENSURED:  # the ends of lanes added by settings, once per process
        ends = [AuditChainHead(pk=lane + 1) for lane in range(lanes)]
        AuditChainHead.objects.bulk_create(ends, ignore_conflicts=True)
        _ENSURED.add(key)
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_FREE_LANE, {"lanes": lanes, "first": _preferred_lane(lanes)})
        row = cursor.fetchone()
        if row is None:
            head = _lock_head(lanes)
            row = (head.pk, head.last_hash)
        entry = _next_entry(row[0], row[1], fields)
        sql, model_fields = _insert_sql()
        params = [f.get_db_prep_save(getattr(entry, f.attname), connection) for f in model_fields]
        cursor.execute(sql, [*params, entry.entry_hash, row[0]])
        (entry.pk,) = cursor.fetchone()
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int | None
    message: str

    def __str__(self) -> str:
        where = f"#{self.entry_id}" if self.entry_id is not None else "末尾"
        return f"監査ログ {where}: {self.message}"


def verify() -> Iterator[ChainProblem]:
    """Walk the entries once in id order, following each lane's chain; yield the first break found (and stop
    there: later rows cannot be trusted), then compare each lane's end with its last entry. Reads plain rows (not
    model instances) in chunks of VERIFY_CHUNK: ten million entries take minutes, in constant memory."""
    expected_prev: dict[int, str] = {}
    last_ids: dict[int, int] = {}
    last_id = 0
    columns = ("pk", "lane", "entry_hash", *HASHED_FIELDS)
    while True:
        chunk = list(AuditLogEntry.objects.filter(pk__gt=last_id).order_by("pk").values_list(*columns)[:VERIFY_CHUNK])
        if not chunk:
            break
        for pk, lane, entry_hash, *hashed in chunk:
            values = dict(zip(HASHED_FIELDS, hashed, strict=True))
            if values["prev_hash"] != expected_prev.get(lane, GENESIS_HASH):
                yield ChainProblem(pk, "前の記録とつながっていません（前の記録が削除または改ざんされています）")
                return
            values["occurred_at"] = values["occurred_at"].isoformat(timespec="microseconds")
            if content_hash(values) != entry_hash:
                yield ChainProblem(pk, "内容がハッシュと一致しません（この記録が改ざんされています）")
                return
            expected_prev[lane] = entry_hash
            last_ids[lane] = pk
            last_id = pk
    heads = {head.pk - 1: head for head in AuditChainHead.objects.all()}
    for lane in sorted(set(heads) | set(last_ids)):
        head = heads.get(lane)
        if head is None:
            yield ChainProblem(None, f"チェーンの末尾情報がありません（系列 {lane}）")
            return
        if head.last_hash != expected_prev.get(lane, GENESIS_HASH) or head.last_entry_id != last_ids.get(lane, 0):
            yield ChainProblem(head.last_entry_id or None, "末尾の記録が削除されています（末尾の記録と一致しません）")
            return
