"""消除: 転出 (国内・国外), 死亡, 職権消除. The 住民票 becomes a 除票; the 世帯 loses the person."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from common.errors import ServiceError
from common.models import Municipality
from koseki_fuhyo.services.fuhyo import AddressData, current_entry_for_code, identity_differences, record_address

from ..addresses import full_address
from ..choices import ChangeReason, ResidentStatus
from ..models import Resident
from ..rules import MOVE_OUT_NOTICE_AHEAD_DAYS, Problems, check_change_dates
from .history import head_name, lock_current, lock_household, new_result, ward_address, ward_code, write_change
from .results import ChangeResult
from .structure import relationship_problems, remaining_head_placements, restructure


def _remove(
    reason: str,
    residents: list[Resident],
    *,
    change_date: dt.date,
    notified_on: dt.date | None,
    remaining_head: Resident | None,
    relationships: dict[int, str] | None,
    destination_text: str = "",
    moved_to: Municipality | None = None,
    moved_to_address: str = "",
    moved_to_country: str = "",
    filing=None,
    note: str = "",
    problems: Problems | None = None,
    ahead_days: int = 0,
) -> ChangeResult:
    problems = problems or Problems()
    if not residents:
        raise ServiceError({"residents": ["消除する人を一人以上選んでください。"]})
    residents = lock_current(residents)
    household = lock_household(residents[0].household)
    if any(r.household_id != household.pk for r in residents):
        raise ServiceError({"residents": ["一つの届出で扱えるのは同じ世帯の人だけです。"]})
    check_change_dates(
        problems,
        change_date,
        notified_on,
        birth_dates=[r.birth_date for r in residents],
        change_date_may_follow_notification_by=ahead_days,
    )
    problems.raise_if_any()
    staying, headless = remaining_head_placements(household, residents, remaining_head, relationships or {})
    relationship_problems(staying).raise_if_any()
    result = new_result()
    previous_head = head_name(household)
    old_address = ward_address(household.address, household.katagaki)
    for resident in residents:
        resident.status = ResidentStatus.REMOVED
        resident.removed_on = change_date
        resident.removal_reason = reason
        resident.moved_to_municipality = moved_to
        resident.moved_to_address = moved_to_address
        resident.moved_to_country = moved_to_country
        resident.save()
        result.residents.append(resident)
    if not household.current_members().exists():
        household.dissolved_on = change_date
        household.save(update_fields=["dissolved_on", "updated_at"])
    result.households.append(household)
    for resident in residents:
        write_change(
            result,
            resident,
            reason,
            change_date,
            notified_on,
            previous_address=old_address,
            new_address=destination_text,
            previous_head_name=previous_head,
            new_head_name="",
            previous_household_number=household.number,
            filing=filing,
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
            filing=filing,
            note="世帯主の消除に伴う変更",
        )
    del headless  # a 世帯 left 世帯主不在 waits for a 世帯主変更届
    return result


@transaction.atomic
def move_out(
    residents: list[Resident],
    *,
    planned_date: dt.date,
    notified_on: dt.date,
    destination_municipality: str | None = None,
    destination_address: str = "",
    destination_country: str = "",
    remaining_head: Resident | None = None,
    relationships: dict[int, str] | None = None,
    note: str = "",
) -> ChangeResult:
    """転出 (住基法24条): the 住民票 is removed as of the planned date (転出予定日). The 附票 is left as it is for a
    move inside Japan (the new 住所地 will notify the 本籍地); for 国外転出 the 本籍地 (this ward, when it is)
    records 国外転出 on the 附票 now, in this transaction."""
    problems = Problems()
    abroad = bool(destination_country.strip())
    moved_to = None
    if abroad and destination_municipality:
        problems.add("destination_municipality", "国外転出では転出先の市区町村は指定しません。")
    elif not abroad:
        if not destination_municipality:
            problems.add("destination_municipality", "転出先の市区町村（または国外転出の国名）を指定してください。")
        else:
            moved_to = Municipality.objects.filter(code=destination_municipality).first()
            if moved_to is None:
                problems.add(
                    "destination_municipality", f"地方公共団体コード {destination_municipality} は登録されていません。"
                )
            elif moved_to.code == ward_code():
                problems.add("destination_municipality", "区内への異動は転出ではなく転居です。")
        if not destination_address.strip():
            problems.add("destination_address", "転出先の住所を入力してください。")
    reason = ChangeReason.MOVE_OUT_ABROAD if abroad else ChangeReason.MOVE_OUT
    destination_text = (
        f"国外（{destination_country.strip()}）" if abroad else full_address(moved_to, destination_address.strip())
    )
    result = _remove(
        reason,
        residents,
        change_date=planned_date,
        notified_on=notified_on,
        remaining_head=remaining_head,
        relationships=relationships,
        destination_text=destination_text,
        moved_to=moved_to,
        moved_to_address=destination_address.strip(),
        moved_to_country=destination_country.strip(),
        note=note,
        problems=problems,
        ahead_days=MOVE_OUT_NOTICE_AHEAD_DAYS,
    )
    if abroad:
        for resident in result.residents:
            if resident.honseki_municipality_id != ward_code():
                continue
            entry = current_entry_for_code(resident.juminhyo_code, lock=True)
            if entry is not None and not identity_differences(entry, resident):
                _, event = record_address(
                    entry,
                    AddressData(municipality=None, is_abroad=True, country=destination_country.strip()),
                    planned_date,
                    timezone.localdate(),  # 記録日: the day the line is written, not the 届出日
                    ChangeReason.MOVE_OUT_ABROAD.label,
                    result.change_group,
                )
                result.events.append(event)
    return result


@transaction.atomic
def death(
    resident: Resident,
    *,
    date_of_death: dt.date,
    notified_on: dt.date | None,
    remaining_head: Resident | None = None,
    relationships: dict[int, str] | None = None,
    filing=None,
    note: str = "",
) -> ChangeResult:
    """死亡: the 住民票 is removed as of the date of death. The 戸籍 and 附票 side is recorded by the 死亡届
    (koseki_fuhyo.services.filings), which calls this for a resident of the ward."""
    return _remove(
        ChangeReason.DEATH,
        [resident],
        change_date=date_of_death,
        notified_on=notified_on,
        remaining_head=remaining_head,
        relationships=relationships,
        filing=filing,
        note=note,
    )


@transaction.atomic
def ex_officio_removal(
    residents: list[Resident],
    *,
    change_date: dt.date,
    note: str,
    remaining_head: Resident | None = None,
    relationships: dict[int, str] | None = None,
    filing=None,
) -> ChangeResult:
    """職権消除 (住基法施行令12条): e.g. a person found by survey not to live at the address."""
    if not note.strip():
        raise ServiceError({"note": ["職権消除の理由を備考に入力してください。"]})
    return _remove(
        ChangeReason.EX_OFFICIO_REMOVAL,
        residents,
        change_date=change_date,
        notified_on=None,
        remaining_head=remaining_head,
        relationships=relationships,
        filing=filing,
        note=note,
    )
