"""Applying received notices, one module per kind (`handle(notice) -> Outcome`; `review(notice) -> Outcome`, which
changes nothing, for a notice whose sender failed its authority rule (transfers.authority); `confirm(notice)` where
a clerk can confirm a waiting notice). The 附票本人確認情報 for J-LIS has no handler: a ward never receives it.

`apply` runs a handler in a savepoint: a service that refuses (ServiceError) leaves nothing behind, and the
notice waits for a clerk with the service's reason instead.
"""

from __future__ import annotations

from types import ModuleType

from django.core.exceptions import ValidationError
from django.db import transaction

from common.items import IDENTITY_ITEMS

from ..routing import NoticeKind
from . import fuhyo_items, honseki_check, honseki_transfer, juminhyo_items, move_in_notice
from .base import APPLIED, WAITING, Outcome, difference, same

HANDLERS: dict[str, ModuleType] = {
    NoticeKind.FUHYO_ITEMS: fuhyo_items,
    NoticeKind.JUMINHYO_ITEMS: juminhyo_items,
    NoticeKind.HONSEKI_CHECK: honseki_check,
    NoticeKind.HONSEKI_TRANSFER: honseki_transfer,
    NoticeKind.MOVE_IN: move_in_notice,
}
PROBLEM_MAX = 300

__all__ = ["APPLIED", "HANDLERS", "WAITING", "Outcome", "apply", "problem_text", "resident_differences", "review"]


def problem_text(error: ValidationError) -> str:
    return "　".join(error.messages)[:PROBLEM_MAX]


def apply(notice) -> Outcome:
    """Handle a freshly stored notice; a refusal by a register's service becomes a waiting notice with its reason."""
    handler = HANDLERS[notice.kind]
    try:
        with transaction.atomic():
            return handler.handle(notice)
    except ValidationError as exc:
        return Outcome.waiting("反映できませんでした：" + problem_text(exc))


def review(notice) -> Outcome:
    """What a clerk needs to see of a notice that must not be applied automatically (its sender is not entitled to
    it, transfers.authority): the record found and the differences, always `waiting`, nothing changed."""
    try:
        outcome = HANDLERS[notice.kind].review(notice)
    except ValidationError:
        outcome = Outcome.waiting("")
    outcome.state = WAITING
    return outcome


def resident_differences(notice, resident) -> list[dict]:
    """The identity items in which the notified person and one of our 住民票 disagree (`juminhyo`: ours), for a
    notice shown beside a 住民票 that its handler did not compare it with."""
    payload = notice.payload if isinstance(notice.payload, dict) else {}
    person = payload.get("person") if isinstance(payload.get("person"), dict) else {}
    rows = [difference(item, person.get(item), getattr(resident, item), "juminhyo") for item in IDENTITY_ITEMS]
    return [row for row in rows if row["item"] in person and not same(row["notified"], row["juminhyo"])]
