"""転入通知 (住基法9条1項) received: this ward is the previous 住所地. The 除票 of the person
who moved away gets the confirmed 転出 date and address (registry.services.record_move_out_confirmation); a notice
naming nobody who moved away from here, or someone whose identity items differ, waits for a clerk."""

from __future__ import annotations

from typing import Any

from common.items import IDENTITY_ITEMS
from common.models import Municipality
from registry import services
from registry.choices import ChangeReason, ResidentStatus
from registry.models import Resident

from ..payloads import subject_code
from .base import Outcome, difference, parse_date, refuse_unless_applied, same, today

NOT_FOUND = "転出（または職権消除）した人の除票が、住民票コードで見つかりません。"
MOVED_AWAY = (ChangeReason.MOVE_OUT, ChangeReason.MOVE_OUT_ABROAD, ChangeReason.EX_OFFICIO_REMOVAL)


def find_removed(code: str | None) -> Resident | None:
    """The latest 除票 of a person who moved away (転出, 国外転出, 職権消除) with this 住民票コード."""
    if not code:
        return None
    return (
        Resident.objects.select_for_update()
        .filter(juminhyo_code=code, status=ResidentStatus.REMOVED, removal_reason__in=MOVED_AWAY)
        .order_by("-removed_on", "-pk")
        .first()
    )


def _confirmed_address(payload: dict[str, Any]) -> str:
    new_address = payload["change"].get("new_address")
    if new_address:
        return new_address
    person = payload["person"]
    municipality = Municipality.objects.filter(code=person.get("address_municipality") or "").first()
    return f"{municipality.full_name if municipality else ''}{person.get('address') or ''}"


def _apply(resident: Resident, payload: dict[str, Any]) -> Outcome:
    result = services.record_move_out_confirmation(
        resident,
        confirmed_date=parse_date(payload["change"]["change_date"]),
        confirmed_address=_confirmed_address(payload),
        notice_received_on=today(),
    )
    return Outcome.applied(resident=resident, change_group=result.change_group)


def _differences(person: dict[str, Any], resident: Resident) -> list[dict[str, Any]]:
    rows = [difference(i, person.get(i), getattr(resident, i), "juminhyo") for i in IDENTITY_ITEMS]
    return [r for r in rows if not same(r["notified"], r["juminhyo"])]


def handle(notice) -> Outcome:
    person = notice.payload["person"]
    resident = find_removed(person.get("juminhyo_code"))
    if resident is None:
        return Outcome.waiting(NOT_FOUND)
    rows = _differences(person, resident)
    if rows:
        return Outcome.waiting(
            "通知された項目が除票の記載と合いません。確認してください。", differences=rows, resident=resident
        )
    return _apply(resident, notice.payload)


def review(notice) -> Outcome:
    """For a notice whose sender failed the authority rule: the 除票 found and the differences. Changes nothing."""
    person = notice.payload["person"]
    resident = find_removed(person.get("juminhyo_code"))
    if resident is None:
        return Outcome.waiting(NOT_FOUND)
    return Outcome.waiting("", differences=_differences(person, resident), resident=resident)


def confirm(notice) -> Outcome:
    """The clerk checked the differences: record the confirmation on the 除票 found (or found now)."""
    resident = find_removed(subject_code(notice.payload))
    if resident is None:
        return refuse_unless_applied(Outcome.waiting("転出した人の除票が見つかりません。"))
    return _apply(resident, notice.payload)
