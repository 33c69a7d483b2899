"""転居 (住基法23条): persons move to another address inside the ward."""

import datetime as dt

from django.db import transaction

from common.errors import ServiceError
from koseki_fuhyo.services.fuhyo import sync_from_resident

from ..choices import ChangeReason
from ..models import Household, Resident
from ..relationships import HEAD
from ..rules import Problems, check_change_dates
from .entries import NewHousehold
from .history import (
    head_name,
    lock_current,
    lock_household,
    new_result,
    next_household_number,
    ward_address,
    write_change,
)
from .results import ChangeResult
from .structure import Placement, check_heads, relationship_problems, remaining_head_placements, restructure


def _move_address(resident: Resident, household: Household, change_date: dt.date) -> None:
    resident.address = household.address
    resident.katagaki = household.katagaki
    resident.address_established_on = change_date
    resident.save(update_fields=["address", "katagaki", "address_established_on", "updated_at"])


@transaction.atomic
def move_within(
    residents: list[Resident],
    *,
    change_date: dt.date,
    notified_on: dt.date,
    new_address: NewHousehold | None = None,
    target_household: Household | None = None,
    new_head: Resident | None = None,
    relationships: dict[int, str] | None = None,
    remaining_head: Resident | None = None,
    note: str = "",
) -> ChangeResult:
    """転居. Three shapes:

    - the whole 世帯 moves to `new_address`: the 世帯 keeps its number and 続柄, its address changes;
    - some members move to `new_address`: they form a new 世帯 headed by `new_head` (`relationships` gives the
      others' 続柄), and when the 世帯主 is among them, those who stay get `remaining_head`;
    - the movers join `target_household` at its address (`relationships` relative to its 世帯主).
    """
    relationships = relationships or {}
    if (new_address is None) == (target_household is None):
        raise ServiceError(
            "転居先として、新しい住所か、入る世帯のどちらか一方を指定してください。", code="target_choice"
        )
    if not residents:
        raise ServiceError({"residents": ["転居する人を一人以上選んでください。"]})
    residents = lock_current(residents)
    household = lock_household(residents[0].household)
    if any(r.household_id != household.pk for r in residents):
        raise ServiceError({"residents": ["一つの届出で転居できるのは同じ世帯の人だけです。"]})
    problems = Problems()
    check_change_dates(problems, change_date, notified_on, birth_dates=[r.birth_date for r in residents])
    if new_address is not None:
        address = new_address.address.strip()
        if not address:
            problems.add("address", "新しい住所を入力してください。")
        elif (address, new_address.katagaki.strip()) == (household.address, household.katagaki):
            problems.add("address", "新しい住所が今までの住所と同じです。")
    if target_household is not None:
        target_household = lock_household(target_household)
        if target_household.pk == household.pk:
            problems.add("target_household", "今の世帯と同じ世帯は転居先にできません。")
        elif (target_household.address, target_household.katagaki) == (household.address, household.katagaki):
            problems.add("target_household", "同じ住所の世帯に入るときは世帯合併として記録してください。")
    problems.raise_if_any()

    result = new_result()
    whole = len(residents) == household.current_members().count()
    previous_address = ward_address(household.address, household.katagaki)
    if whole and new_address is not None:
        # The 世帯 moves as it is.
        previous_head = head_name(household)
        household.address = new_address.address.strip()
        household.katagaki = new_address.katagaki.strip()
        household.save(update_fields=["address", "katagaki", "updated_at"])
        result.households.append(household)
        for resident in residents:
            _move_address(resident, household, change_date)
            result.residents.append(resident)
            write_change(
                result,
                resident,
                ChangeReason.MOVE_WITHIN,
                change_date,
                notified_on,
                previous_address=previous_address,
                new_address=ward_address(household.address, household.katagaki),
                previous_head_name=previous_head,
                new_head_name=previous_head,
                previous_household_number=household.number,
                new_household_number=household.number,
                note=note,
            )
            result.events.extend(sync_from_resident(resident, ChangeReason.MOVE_WITHIN, result.change_group))
        return result

    # Some (or all, into another 世帯) move: re-arrange 世帯, then move addresses.
    if target_household is not None:
        destination = target_household
        if target_household.head is None:
            raise ServiceError({"target_household": ["転居先の世帯に世帯主がいません。"]})
        movers = []
        for r in residents:
            if r.pk not in relationships:
                raise ServiceError({f"relationships[{r.pk}]": ["転居先の世帯主との続柄を入力してください。"]})
            movers.append(Placement(r, destination, relationships[r.pk]))
    else:
        if new_head is None or new_head.pk not in {r.pk for r in residents}:
            raise ServiceError({"new_head": ["新しい世帯の世帯主を、転居する人から選んでください。"]})
        destination = Household.objects.create(
            number=next_household_number(),
            address=new_address.address.strip(),
            katagaki=new_address.katagaki.strip(),
            formed_on=change_date,
        )
        movers = []
        for r in residents:
            if r.pk == new_head.pk:
                movers.append(Placement(r, destination, HEAD))
            elif r.pk in relationships:
                movers.append(Placement(r, destination, relationships[r.pk]))
            else:
                raise ServiceError({f"relationships[{r.pk}]": ["新しい世帯主との続柄を入力してください。"]})
    staying, headless = remaining_head_placements(household, residents, remaining_head, relationships)
    problems = relationship_problems(movers + staying)
    check_heads(
        problems, [household, destination], movers + staying, headless_allowed={household.pk} if headless else set()
    )
    problems.raise_if_any()
    for placement in movers:
        _move_address(placement.resident, destination, change_date)
    restructure(
        result, movers, ChangeReason.MOVE_WITHIN, change_date, notified_on, touched=[household, destination], note=note
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
    for placement in movers:
        result.events.extend(sync_from_resident(placement.resident, ChangeReason.MOVE_WITHIN, result.change_group))
    return result
