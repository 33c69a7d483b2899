"""The 附票 items a change event carries (ward paper: items exchanged with other municipalities and J-LIS).

The 情報提供用個人識別符号 is deliberately absent: it never enters an event, a log or a notice payload from here.
"""

import datetime as dt
from typing import Any

from common.items import identity_items
from common.items import iso_date as _iso

from .models import FuhyoAddress, FuhyoEntry


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
        **identity_items(entry),
        "status": entry.status,
        "address": address_items(entry.current_address()),
        "record_kind": record_kind,
        "reason": reason,
        "recorded_on": _iso(recorded_on),
    }
