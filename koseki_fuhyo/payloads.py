"""The 附票 items a change event carries (ward paper: items exchanged with other municipalities and J-LIS).

The 情報提供用個人識別符号 is deliberately absent: it never enters an event, a log or a notice payload from here.
"""

import datetime as dt
from typing import Any

from .models import FuhyoAddress, FuhyoEntry


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def address_items(address: FuhyoAddress | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "municipality": address.municipality_id,
        "address": address.address,
        "is_abroad": address.is_abroad,
        "country": address.country,
        "established_on": _iso(address.established_on),
        "recorded_on": _iso(address.recorded_on),
        "reason": address.reason,
    }


def fuhyo_items(entry: FuhyoEntry, record_kind: str, reason: str, recorded_on: dt.date) -> dict[str, Any]:
    koseki = entry.koseki
    return {
        "fuhyo_entry_id": entry.pk,
        "koseki_id": koseki.pk,
        "honseki_address": koseki.honseki_address,
        "hittousha_name": koseki.hittousha_name,
        "juminhyo_code": entry.juminhyo_code,
        "surname": entry.surname,
        "given_name": entry.given_name,
        "surname_kana": entry.surname_kana,
        "given_name_kana": entry.given_name_kana,
        "birth_date": _iso(entry.birth_date),
        "sex": entry.sex,
        "status": entry.status,
        "address": address_items(entry.current_address()),
        "record_kind": record_kind,
        "reason": reason,
        "recorded_on": _iso(recorded_on),
    }
