"""What every inbound handler shares: the outcome it returns, and the comparison of notified values with ours.

A handler never changes a register itself: it calls the registers' services (registry.services,
koseki_fuhyo.services), which write their history, their change events and so their own follow-up notices (the
J-LIS update after a 附票 change) in the transaction that stores the inbound notice.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from common.errors import ServiceError

APPLIED = "applied"
WAITING = "waiting"

# Japanese names of the items a side-by-side view shows.
LABELS = {
    "juminhyo_code": "住民票コード",
    "surname": "氏",
    "given_name": "名",
    "surname_kana": "氏（カナ）",
    "given_name_kana": "名（カナ）",
    "birth_date": "生年月日",
    "sex": "性別",
    "honseki_municipality": "本籍（市区町村）",
    "honseki_address": "本籍（地番）",
    "hittousha_name": "筆頭者の氏名",
    "address_municipality": "住所（市区町村）",
    "address": "住所",
    "katagaki": "方書",
    "address_established_on": "住所を定めた年月日",
    "entered": "記載（届出事件）",
    "removed": "消除（届出事件）",
    "removed_on": "消除の原因の日",
}

_SPACES = re.compile(r"[\s\u3000]+")


@dataclass
class Outcome:
    """What handling (or confirming) a notice came to: `applied`, or `waiting` for a clerk with the reason."""

    state: str
    problem: str = ""
    differences: list[dict[str, Any]] = field(default_factory=list)
    resident: Any = None
    fuhyo_entry: Any = None
    change_group: uuid.UUID | None = None

    @classmethod
    def applied(cls, **kwargs: Any) -> Outcome:
        return cls(APPLIED, **kwargs)

    @classmethod
    def waiting(cls, problem: str, **kwargs: Any) -> Outcome:
        return cls(WAITING, problem=problem, **kwargs)


def today() -> dt.date:
    """記録日 and 通知日: the day the ward records the notice."""
    return timezone.localdate()


def as_text(value: Any) -> str | None:
    """A value as the side-by-side view and the 本籍照合通知 show it: ISO dates, None for blank."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def same(notified: Any, ours: Any) -> bool:
    """Whether two values agree. Names are compared as written (never normalised: the variation sequences are part of a
    name); only the kind of space between 氏 and 名 (half-width or ideographic) and the blanks around a value do not
    count."""
    a, b = as_text(notified), as_text(ours)
    if a is None or b is None:
        return a == b
    return _SPACES.sub(" ", a).strip() == _SPACES.sub(" ", b).strip()


def difference(item: str, notified: Any, ours: Any, ours_key: str = "koseki", **extra: Any) -> dict[str, Any]:
    return {
        "item": item,
        "label": LABELS.get(item, item),
        "notified": as_text(notified),
        ours_key: as_text(ours),
        **extra,
    }


def parse_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def refuse_unless_applied(outcome: Outcome) -> Outcome:
    """For a clerk's confirmation: an outcome that would still wait is refused with its reason."""
    if outcome.state != APPLIED:
        raise ServiceError(outcome.problem or "この通知はまだ反映できません。")
    return outcome
