"""世帯の変更: 世帯主変更, 世帯分離, 世帯合併 (住基法25条 世帯変更届)."""

import datetime as dt

from django.db import transaction

from common.errors import ServiceError

from ..choices import ChangeReason
from ..models import Household, Resident
from ..relationships import HEAD
from ..rules import Problems, check_change_dates
from .history import lock_current, lock_household, new_result, next_household_number
from .results import ChangeResult
from .structure import (
    Placement,
    check_heads,
    relationship_problems,
    remaining_head_placements,
    require_members,
    restructure,
)


def _dates(change_date: dt.date, notified_on: dt.date | None) -> None:
    problems = Problems()
    check_change_dates(problems, change_date, notified_on)
    problems.raise_if_any()


@transaction.atomic
def change_household_head(
    household: Household,
    new_head: Resident,
    relationships: dict[int, str],
    *,
    change_date: dt.date,
    notified_on: dt.date,
    note: str = "",
) -> ChangeResult:
    """世帯主変更: another member becomes 世帯主; every other member's 続柄 is given anew, relative to the new head."""
    _dates(change_date, notified_on)
    household = lock_household(household)
    members = lock_current(list(household.current_members()))
    require_members(household, [new_head], "new_head")
    if new_head.relationship == HEAD:
        raise ServiceError({"new_head": ["この人はすでに世帯主です。"]})
    placements = [Placement(next(m for m in members if m.pk == new_head.pk), household, HEAD)]
    for member in members:
        if member.pk == new_head.pk:
            continue
        if member.pk not in relationships:
            raise ServiceError({f"relationships[{member.pk}]": ["新しい世帯主との続柄を入力してください。"]})
        placements.append(Placement(member, household, relationships[member.pk]))
    problems = relationship_problems(placements)
    check_heads(problems, [household], placements)
    problems.raise_if_any()
    result = new_result()
    restructure(
        result, placements, ChangeReason.HOUSEHOLD_HEAD_CHANGE, change_date, notified_on, touched=[household], note=note
    )
    return result


@transaction.atomic
def split_household(
    household: Household,
    members: list[Resident],
    new_head: Resident,
    relationships: dict[int, str],
    *,
    change_date: dt.date,
    notified_on: dt.date,
    remaining_head: Resident | None = None,
    note: str = "",
) -> ChangeResult:
    """世帯分離: some members form a new 世帯 at the same address. `relationships` gives the 続柄 of the other
    members of the new 世帯 relative to `new_head`, and, when the 世帯主 leaves, of those who stay relative to
    `remaining_head`."""
    _dates(change_date, notified_on)
    household = lock_household(household)
    members = lock_current(members)
    require_members(household, members)
    if new_head.pk not in {m.pk for m in members}:
        raise ServiceError({"new_head": ["新しい世帯の世帯主は、分離する人から選んでください。"]})
    if len(members) >= household.current_members().count():
        raise ServiceError({"residents": ["世帯員全員が分離することはできません。"]})
    new_household = Household.objects.create(
        number=next_household_number(),
        address=household.address,
        katagaki=household.katagaki,
        formed_on=change_date,
    )
    placements = []
    for member in members:
        if member.pk == new_head.pk:
            placements.append(Placement(member, new_household, HEAD))
        elif member.pk in relationships:
            placements.append(Placement(member, new_household, relationships[member.pk]))
        else:
            raise ServiceError({f"relationships[{member.pk}]": ["新しい世帯主との続柄を入力してください。"]})
    staying, headless = remaining_head_placements(household, members, remaining_head, relationships)
    problems = relationship_problems(placements + staying)
    check_heads(
        problems,
        [household, new_household],
        placements + staying,
        headless_allowed={household.pk} if headless else set(),
    )
    problems.raise_if_any()
    result = new_result()
    restructure(
        result,
        placements,
        ChangeReason.HOUSEHOLD_SEPARATION,
        change_date,
        notified_on,
        touched=[household, new_household],
        note=note,
    )
    if staying:
        restructure(
            result,
            staying,
            ChangeReason.HOUSEHOLD_HEAD_CHANGE,
            change_date,
            notified_on,
            touched=[household],
            note=note,
        )
    return result


@transaction.atomic
def merge_households(
    source: Household,
    target: Household,
    relationships: dict[int, str],
    *,
    change_date: dt.date,
    notified_on: dt.date,
    note: str = "",
) -> ChangeResult:
    """世帯合併: every member of `source` joins `target` at the same address; `source` ceases to exist.
    `relationships` gives each joining member's 続柄 relative to the head of `target`."""
    _dates(change_date, notified_on)
    if source.pk == target.pk:
        raise ServiceError({"target": ["同じ世帯どうしは合併できません。"]})
    source, target = lock_household(source), lock_household(target)
    if (source.address, source.katagaki) != (target.address, target.katagaki):
        raise ServiceError({"target": ["住所の異なる世帯とは合併できません（転居として記録してください）。"]})
    if target.head is None:
        raise ServiceError({"target": ["合併先の世帯に世帯主がいません。先に世帯主変更を記録してください。"]})
    members = lock_current(list(source.current_members()))
    placements = []
    for member in members:
        if member.pk not in relationships:
            raise ServiceError({f"relationships[{member.pk}]": ["合併先の世帯主との続柄を入力してください。"]})
        placements.append(Placement(member, target, relationships[member.pk]))
    problems = relationship_problems(placements)
    check_heads(problems, [source, target], placements)
    problems.raise_if_any()
    result = new_result()
    restructure(
        result, placements, ChangeReason.HOUSEHOLD_MERGER, change_date, notified_on, touched=[source, target], note=note
    )
    return result
