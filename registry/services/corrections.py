"""修正: 職権修正 (incl. 誤記修正), changes that a 戸籍届出 makes to a 住民票, and the completion of a 除票 when the
new 住所地's 転入通知 arrives. These are the statutory corrections: the only changes a 除票 accepts."""

import datetime as dt
from typing import Any

from django.db import transaction

from common.errors import ServiceError, full_clean_or_raise
from common.items import HONSEKI_ITEMS, IDENTITY_ITEMS, KOSEKI_ITEMS
from koseki_fuhyo.services.fuhyo import follow_code_change, sync_from_resident

from ..choices import ChangeReason, ResidentStatus
from ..guards import statutory_correction
from ..models import Resident
from ..payloads import resident_items
from ..relationships import HEAD
from ..rules import Problems, check_change_dates
from . import validation as v
from .history import lock_household, new_result, ward_address, write_change
from .results import ChangeResult

# Items a 職権修正 may correct; 世帯 and 住所 change only through their own 異動 (転居, 世帯変更).
AMENDABLE = (
    *IDENTITY_ITEMS,
    "relationship",
    *HONSEKI_ITEMS,
    "juminhyo_code",
    "address_established_on",
    "became_resident_on",
)


def _clean_changes(problems: Problems, changes: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ServiceError({"changes": [f"この手続では修正できない項目です：{', '.join(sorted(unknown))}"]})
    cleaned: dict[str, Any] = {}
    for field, value in changes.items():
        if field in ("surname", "given_name"):
            cleaned[field] = v.clean_name(problems, field, value)
        elif field in ("surname_kana", "given_name_kana"):
            cleaned[field] = v.clean_kana_field(problems, field, value)
        elif field == "relationship":
            cleaned[field] = v.clean_relationship(problems, field, value)
        elif field == "juminhyo_code":
            cleaned[field] = v.clean_code(problems, field, value)
            if not cleaned[field]:
                problems.add(field, "住民票コードは空欄にできません。")
        elif field == "sex":
            cleaned[field] = v.clean_sex(problems, field, value)
        elif field == "honseki_municipality":
            cleaned[field] = v.municipality_or_problem(problems, field, value, required=False)
        elif field in ("birth_date", "address_established_on", "became_resident_on"):
            v.check_date_type(problems, field, value)
            cleaned[field] = value
        else:
            cleaned[field] = value.strip() if isinstance(value, str) else value
    return cleaned


def _serialisable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def _apply(
    resident: Resident,
    cleaned: dict[str, Any],
    reason: str,
    change_date: dt.date,
    notified_on: dt.date | None,
    *,
    filing=None,
    note: str = "",
) -> ChangeResult:
    before = resident_items(resident)
    details = {}
    for field, value in cleaned.items():
        old = getattr(resident, field)
        if old != value:
            details[field] = [_serialisable(old), _serialisable(value)]
            setattr(resident, field, value)
    if not details:
        raise ServiceError({"changes": ["修正する内容が今の記載と同じです。"]})
    if resident.honseki_municipality is None:
        resident.honseki_address = ""
        resident.hittousha_name = ""
    full_clean_or_raise(resident, exclude=["household"], validate_constraints=True)
    if resident.birth_date > min(resident.address_established_on, resident.became_resident_on):
        raise ServiceError({"birth_date": ["生年月日が住所を定めた年月日・住民となった年月日より後になります。"]})
    resident.save()
    result = new_result()
    result.residents.append(resident)
    here = ward_address(resident.address, resident.katagaki)
    write_change(
        result,
        resident,
        reason,
        change_date,
        notified_on,
        previous_address=here,
        new_address=here,
        details=details,
        before=before,
        filing=filing,
        note=note,
    )
    if resident.status == ResidentStatus.CURRENT:
        if "juminhyo_code" in details:
            result.events.extend(follow_code_change(details["juminhyo_code"][0], resident, reason, result.change_group))
        result.events.extend(sync_from_resident(resident, reason, result.change_group))
    return result


def _lock(resident: Resident) -> Resident:
    return Resident.objects.select_for_update().select_related("household").get(pk=resident.pk)


@transaction.atomic
def ex_officio_amendment(
    resident: Resident,
    changes: dict[str, Any],
    *,
    change_date: dt.date,
    note: str,
) -> ChangeResult:
    """職権修正 / 誤記修正 of a 住民票 or a 除票 (住基法施行令12条3項). `changes` maps items of AMENDABLE to the
    corrected values (本籍 as a 地方公共団体コード)."""
    if not note.strip():
        raise ServiceError({"note": ["職権修正の理由を備考に入力してください。"]})
    resident = _lock(resident)
    problems = Problems()
    check_change_dates(problems, change_date, None)
    cleaned = _clean_changes(problems, changes, AMENDABLE)
    if "relationship" in cleaned and resident.status == ResidentStatus.CURRENT:
        lock_household(resident.household)

        becoming_head = cleaned["relationship"] == HEAD and resident.relationship != HEAD
        if becoming_head and resident.household.head is not None:
            problems.add("relationship", "この世帯にはすでに世帯主がいます。世帯主変更として記録してください。")
        if resident.relationship == HEAD and cleaned["relationship"] != HEAD:
            problems.add("relationship", "世帯主の続柄は職権修正では変えられません。世帯主変更として記録してください。")
    if (
        cleaned.get("juminhyo_code")
        and Resident.objects.filter(juminhyo_code=cleaned["juminhyo_code"], status=ResidentStatus.CURRENT)
        .exclude(pk=resident.pk)
        .exists()
    ):
        problems.add("juminhyo_code", "この住民票コードは他の住民票で使われています。")
    problems.raise_if_any()
    with statutory_correction(ChangeReason.EX_OFFICIO_AMENDMENT):
        return _apply(resident, cleaned, ChangeReason.EX_OFFICIO_AMENDMENT, change_date, None, note=note)


@transaction.atomic
def apply_koseki_change(
    resident: Resident,
    changes: dict[str, Any],
    *,
    change_date: dt.date,
    notified_on: dt.date | None,
    filing=None,
    note: str = "",
) -> ChangeResult | None:
    """The 住民票 follows a 戸籍届出 (婚姻, 転籍, 氏の変更 …): 氏名・カナ・本籍・筆頭者 as the 戸籍 now shows them.
    A 除票 is not changed (it keeps what was true when it was removed); returns None then."""
    resident = _lock(resident)
    if resident.status != ResidentStatus.CURRENT:
        return None
    problems = Problems()
    cleaned = _clean_changes(problems, changes, KOSEKI_ITEMS)
    problems.raise_if_any()
    if all(getattr(resident, f) == value for f, value in cleaned.items()):
        return None
    return _apply(resident, cleaned, ChangeReason.KOSEKI_NOTICE, change_date, notified_on, filing=filing, note=note)


@transaction.atomic
def record_move_out_confirmation(
    resident: Resident,
    *,
    confirmed_date: dt.date,
    confirmed_address: str,
    notice_received_on: dt.date,
) -> ChangeResult:
    """転入通知 received (住基法9条1項): the 除票 of a person who moved away gets the confirmed 転出 date and address,
    keeping the planned values beside them."""
    resident = _lock(resident)
    if resident.status != ResidentStatus.REMOVED or resident.removal_reason not in (
        ChangeReason.MOVE_OUT,
        ChangeReason.MOVE_OUT_ABROAD,
        ChangeReason.EX_OFFICIO_REMOVAL,
    ):
        raise ServiceError("転入通知は、転出または職権消除による除票にだけ記録できます。", code="not_moved_out")
    problems = Problems()
    check_change_dates(problems, confirmed_date, notice_received_on)
    if not confirmed_address.strip():
        problems.add("confirmed_address", "転出先住所（確定）を入力してください。")
    problems.raise_if_any()
    with statutory_correction(ChangeReason.MOVE_OUT_CONFIRMED):
        before = resident_items(resident)
        details = {
            "move_out_confirmed_on": [_serialisable(resident.move_out_confirmed_on), confirmed_date.isoformat()],
            "move_out_confirmed_address": [resident.move_out_confirmed_address, confirmed_address.strip()],
        }
        resident.move_out_confirmed_on = confirmed_date
        resident.move_out_confirmed_address = confirmed_address.strip()
        resident.move_in_notice_received_on = notice_received_on
        resident.save()
        result = new_result()
        result.residents.append(resident)
        write_change(
            result,
            resident,
            ChangeReason.MOVE_OUT_CONFIRMED,
            confirmed_date,
            notice_received_on,
            previous_address=ward_address(resident.address, resident.katagaki),
            new_address=confirmed_address.strip(),
            details=details,
            before=before,
        )
        return result
