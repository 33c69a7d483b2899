"""The access/audit log as CSV rows: the entries the log screen's filter selects, oldest first, read in chunks.

Columns: 番号, 日時, 区分, 操作, 結果, 職員ID, パス, 対象の種類, 対象の記録ID, 条件. No names: persons appear only as
record ids, as in the log itself; and the search conditions a clerk typed (a name, a kana, an address, a birth date,
a 住民票コード…) keep their key but not their value, so the reader sees what kind of search it was and can ask the
ward for the entry by its number."""

import json
from collections.abc import Iterator
from typing import Any

from django.utils import timezone

from ..models import AuditLogEntry
from ..selectors import LogFilter, filtered_log

HEADER = ("番号", "日時", "区分", "操作", "結果", "職員ID", "パス", "対象の種類", "対象の記録ID", "条件")
CHUNK = 2_000  # rows per round trip; the query is read with a server-side cursor on PostgreSQL

# Condition keys whose values are what a clerk typed about a person (registry, koseki and audit search forms).
PERSONAL_CONDITION_KEYS = frozenset(
    {
        "name",
        "kana",
        "birth_date",
        "address",
        "katagaki",
        "juminhyo_code",
        "household_number",
        "q",
        "person",
        "honseki",
        "hittousha",
        "hittousha_kana",
    }
)
MASK = "＊"


def mask_conditions(value: Any) -> Any:
    """The conditions with every personal value replaced by ＊ (keys kept), recursively."""
    if isinstance(value, dict):
        return {
            key: (MASK if key in PERSONAL_CONDITION_KEYS and item not in (None, "") else mask_conditions(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_conditions(item) for item in value]
    return value


def _row(values: tuple) -> tuple:
    pk, occurred_at, category, action, outcome, username, path, subject_kind, subject_ids, conditions = values
    return (
        pk,
        timezone.localtime(occurred_at).isoformat(timespec="seconds"),
        AuditLogEntry.Category(category).label if category in AuditLogEntry.Category.values else category,
        action,
        AuditLogEntry.Outcome(outcome).label if outcome in AuditLogEntry.Outcome.values else outcome,
        username,
        path,
        subject_kind,
        " ".join(str(i) for i in subject_ids or []),
        json.dumps(mask_conditions(conditions or {}), ensure_ascii=False, sort_keys=True) if conditions else "",
    )


def log_rows(flt: LogFilter) -> Iterator[tuple]:
    """The selected entries as CSV rows, oldest first (lazily: one chunk of rows in memory at a time)."""
    values = (
        filtered_log(flt)
        .order_by("pk")
        .values_list(
            "pk",
            "occurred_at",
            "category",
            "action",
            "outcome",
            "username",
            "path",
            "subject_kind",
            "subject_ids",
            "conditions",
        )
        .iterator(chunk_size=CHUNK)
    )
    return (_row(v) for v in values)


def describe(flt: LogFilter) -> tuple[str, dict]:
    """The 管理簿's content line and conditions for a log export: which filters, never a person."""
    parts = []
    conditions: dict[str, Any] = {}
    if flt.date_from or flt.date_to:
        start = flt.date_from.isoformat() if flt.date_from else ""
        end = flt.date_to.isoformat() if flt.date_to else ""
        parts.append(f"期間 {start}〜{end}")
        conditions["date_from"], conditions["date_to"] = start, end
    for key, label, value in (
        ("username", "職員ID", flt.username),
        ("category", "区分", flt.category),
        ("outcome", "結果", flt.outcome),
        ("action", "操作", flt.action),
    ):
        if value:
            parts.append(f"{label} {value}")
            conditions[key] = value
    if flt.person is not None:
        parts.append("対象者指定あり")
        conditions["person"] = True
    if flt.off_hours_only:
        parts.append("時間外・閉庁日のみ")
        conditions["off_hours"] = True
    return "アクセスログ（" + ("、".join(parts) if parts else "条件なし") + "）", conditions
