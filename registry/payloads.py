"""The 住民票 items a change event carries (ward paper: items exchanged with other municipalities)."""

from typing import Any

from common.items import identity_items
from common.items import iso_date as _iso

from .models import Resident


def resident_items(resident: Resident) -> dict[str, Any]:
    return {
        "resident_id": resident.pk,
        "juminhyo_code": resident.juminhyo_code,
        **identity_items(resident),
        "honseki_municipality": resident.honseki_municipality_id,
        "honseki_address": resident.honseki_address,
        "hittousha_name": resident.hittousha_name,
        "address": resident.address,
        "katagaki": resident.katagaki,
        "address_established_on": _iso(resident.address_established_on),
        "relationship": resident.relationship,
        "household_number": resident.household.number,
        "status": resident.status,
    }


def change_payload(resident: Resident, change, before: dict[str, Any] | None = None) -> dict[str, Any]:
    """Items of the person after the change, the 異動 itself, and (for amendments) the items before it."""
    payload = {
        "person": resident_items(resident),
        "change": {
            "reason": change.reason,
            "change_class": change.change_class,
            "change_date": _iso(change.change_date),
            "notified_on": _iso(change.notified_on),
            "previous_address": change.previous_address,
            "new_address": change.new_address,
            "previous_head_name": change.previous_head_name,
            "new_head_name": change.new_head_name,
        },
    }
    if before is not None:
        payload["before"] = before
    return payload
