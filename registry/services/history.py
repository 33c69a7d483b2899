"""Writing a 異動 history row and its change event; small helpers every 異動 service shares."""

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction

from audit.visibility import require_may_change
from common import municipalities
from common.context import require_context
from common.errors import ServiceError
from common.events import record_event
from common.models import ChangeEvent

from ..addresses import full_address
from ..choices import CHANGE_CLASS_OF, ChangeClass, ResidentStatus
from ..models import Household, Resident, ResidentChange
from ..payloads import change_payload
from .results import ChangeResult

HOUSEHOLD_NUMBER_WIDTH = 10
_EVENT_KIND = {
    ChangeClass.ENTRY: ChangeEvent.Kind.RESIDENT_ENTERED,
    ChangeClass.REMOVAL: ChangeEvent.Kind.RESIDENT_REMOVED,
    ChangeClass.AMENDMENT: ChangeEvent.Kind.RESIDENT_AMENDED,
}


def ward_address(address: str, katagaki: str = "") -> str:
    return full_address(municipalities.ward(), address, katagaki)


def head_name(household: Household | None) -> str:
    if household is None:
        return ""
    head = household.head
    return head.name if head else ""


def write_change(
    result: ChangeResult,
    resident: Resident,
    reason: str,
    change_date: dt.date,
    notified_on: dt.date | None,
    *,
    previous_address: str = "",
    new_address: str = "",
    previous_head_name: str = "",
    new_head_name: str = "",
    previous_household_number: str = "",
    new_household_number: str = "",
    details: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
    filing=None,
    note: str = "",
) -> ResidentChange:
    """One history row for one person, and the change event that carries it to the notice router. Every 異動 of a
    person passes here: a restricted person is changed only by an actor with a grant (audit.visibility)."""
    ctx = require_context()
    require_may_change(resident)
    change = ResidentChange.objects.create(
        resident=resident,
        change_group=result.change_group,
        reason=reason,
        change_class=CHANGE_CLASS_OF[reason],
        change_date=change_date,
        notified_on=notified_on,
        previous_address=previous_address,
        new_address=new_address,
        previous_head_name=previous_head_name,
        new_head_name=new_head_name,
        previous_household_number=previous_household_number,
        new_household_number=new_household_number,
        details=details or {},
        filing=filing,
        note=note,
        recorded_by_id=ctx.actor_id,
        source=ctx.source,
        request_id=ctx.request_id,
    )
    event = record_event(
        _EVENT_KIND[change.change_class],
        result.change_group,
        reason,
        change_payload(resident, change, before),
        resident=resident,
        filing=filing,
    )
    result.changes.append(change)
    result.events.append(event)
    return change


def new_result() -> ChangeResult:
    return ChangeResult(change_group=uuid.uuid4())


def lock_current(residents: list[Resident]) -> list[Resident]:
    """Re-read the residents FOR UPDATE, so that two clerks recording a 異動 of the same person serialise, and check
    that each is still a current 住民票 (it may have been removed since the clerk's screen was drawn)."""
    ids = [r.pk for r in residents]
    locked = {r.pk: r for r in Resident.objects.select_for_update().filter(pk__in=ids).select_related("household")}
    out = []
    for pk in ids:
        resident = locked.get(pk)
        if resident is None or resident.status != ResidentStatus.CURRENT:
            raise ServiceError("除票または存在しない住民票には、この異動を記録できません。", code="not_current")
        out.append(resident)
    return out


def lock_household(household: Household) -> Household:
    locked = Household.objects.select_for_update().get(pk=household.pk)
    if not locked.is_active:
        raise ServiceError("この世帯はすでに消滅しています。", code="household_dissolved")
    return locked


def next_household_number() -> str:
    """The next free 世帯番号 (10 digits, as the bulk loader writes them).

    The highest number is found by an index range scan and locked FOR UPDATE, so concurrent creators queue; the
    loop then steps over a number another transaction committed meanwhile (the unique index is the final guard).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_household_number must run inside the service's transaction")
    lowest, highest = "0" * HOUSEHOLD_NUMBER_WIDTH, "9" * HOUSEHOLD_NUMBER_WIDTH
    last = (
        Household.objects.select_for_update()
        .filter(number__gte=lowest, number__lte=highest)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    candidate = int(last) + 1 if last and last.isdigit() else 1
    while Household.objects.filter(number=f"{candidate:0{HOUSEHOLD_NUMBER_WIDTH}d}").exists():
        candidate += 1
    return f"{candidate:0{HOUSEHOLD_NUMBER_WIDTH}d}"


def ward_code() -> str:
    return settings.WARD_LG_CODE
