"""記載: 転入 (国内・国外), 出生, 職権記載 — a new 住民票, in a new or an existing 世帯."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from audit.visibility import person_is_restricted, require_may_change
from common.errors import ServiceError, full_clean_or_raise
from common.juminhyo_codes import issue_juminhyo_code
from koseki_fuhyo.models import FuhyoEntry
from koseki_fuhyo.services.fuhyo import sync_from_resident

from ..addresses import full_address
from ..choices import ChangeReason, ResidentStatus
from ..models import Household, Resident
from ..relationships import HEAD
from ..rules import Problems, check_change_dates, check_one_head
from . import validation as v
from .history import (
    head_name,
    lock_household,
    new_result,
    next_household_number,
    ward_address,
    ward_code,
    write_change,
)
from .results import ChangeResult


@dataclass(frozen=True)
class PersonData:
    """A person entering the register, as written on the 届書 (or the 転出証明書, or a notice)."""

    surname: str
    given_name: str
    surname_kana: str
    given_name_kana: str
    birth_date: dt.date
    sex: str
    relationship: str
    honseki_municipality: str | None = None  # 地方公共団体コード; None = 本籍不明
    honseki_address: str = ""
    hittousha_name: str = ""
    juminhyo_code: str = ""  # blank: a new code is issued


@dataclass(frozen=True)
class NewHousehold:
    """A 世帯 the persons form at a ward address."""

    address: str
    katagaki: str = ""


def _clean_person(problems: Problems, index: int | None, person: PersonData) -> tuple[PersonData, object]:
    p = lambda f: v.prefixed(index, f)  # noqa: E731 - local shorthand for field names
    cleaned = v.replace(
        person,
        surname=v.clean_name(problems, p("surname"), person.surname),
        given_name=v.clean_name(problems, p("given_name"), person.given_name),
        surname_kana=v.clean_kana_field(problems, p("surname_kana"), person.surname_kana),
        given_name_kana=v.clean_kana_field(problems, p("given_name_kana"), person.given_name_kana),
        sex=v.clean_sex(problems, p("sex"), person.sex),
        relationship=v.clean_relationship(problems, p("relationship"), person.relationship),
        juminhyo_code=v.clean_code(problems, p("juminhyo_code"), person.juminhyo_code),
        honseki_address=person.honseki_address.strip(),
        hittousha_name=person.hittousha_name.strip(),
    )
    v.check_date_type(problems, p("birth_date"), person.birth_date)
    honseki = v.municipality_or_problem(
        problems, p("honseki_municipality"), person.honseki_municipality, required=False
    )
    if honseki is not None and not cleaned.honseki_address:
        problems.add(p("honseki_address"), "本籍の地番を入力してください。")
    if honseki is not None and not cleaned.hittousha_name:
        problems.add(p("hittousha_name"), "筆頭者の氏名を入力してください。")
    if (
        cleaned.juminhyo_code
        and Resident.objects.filter(juminhyo_code=cleaned.juminhyo_code, status=ResidentStatus.CURRENT).exists()
    ):
        problems.add(p("juminhyo_code"), "この住民票コードの住民票がすでにあります（二重登録のおそれ）。")
    return cleaned, honseki


def _enter(
    reason: str,
    persons: list[PersonData],
    *,
    household: Household | None,
    new_household: NewHousehold | None,
    change_date: dt.date,
    notified_on: dt.date | None,
    previous_municipality: str | None = None,
    previous_address: str = "",
    note: str = "",
    filing=None,
) -> ChangeResult:
    problems = Problems()
    if not persons:
        problems.add("persons", "記載する人を一人以上入力してください。")
    if (household is None) == (new_household is None):
        raise ServiceError("既存の世帯に入るか、新しい世帯を設けるかを指定してください。", code="household_choice")
    cleaned = [_clean_person(problems, i, p) for i, p in enumerate(persons)]
    codes = [c.juminhyo_code for c, _ in cleaned if c.juminhyo_code]
    if len(codes) != len(set(codes)):
        problems.add("persons", "同じ住民票コードが二度入力されています。")
    previous = v.municipality_or_problem(
        problems, "previous_municipality", previous_municipality, required=reason == ChangeReason.MOVE_IN
    )
    if previous is not None and previous.code == ward_code():
        problems.add("previous_municipality", "区内からの異動は転入ではなく転居です。")
    relationships = [c.relationship for c, _ in cleaned]
    check_one_head(problems, relationships, "persons")
    if new_household is not None:
        if not new_household.address.strip():
            problems.add("address", "住所を入力してください。")
        if relationships.count(HEAD) != 1:
            problems.add("persons", "新しい世帯には世帯主を一人指定してください。")
    if household is not None:
        household = lock_household(household)
        if HEAD in relationships and household.head is not None:
            problems.add("persons", "この世帯にはすでに世帯主がいます。")
    births = [(f"persons[{i}].birth_date", c.birth_date) for i, (c, _) in enumerate(cleaned)]
    births = [(field, birth) for field, birth in births if isinstance(birth, dt.date)]
    check_change_dates(
        problems,
        change_date,
        notified_on,
        birth_dates=[birth for _, birth in births],
        birth_fields=[field for field, _ in births],
    )
    problems.raise_if_any()

    result = new_result()
    if household is None:
        household = Household.objects.create(
            number=next_household_number(),
            address=new_household.address.strip(),
            katagaki=new_household.katagaki.strip(),
            formed_on=change_date,
        )
    result.households.append(household)
    previous_text = full_address(previous, previous_address.strip()) if previous else previous_address.strip()
    for person, honseki in cleaned:
        resident = Resident(
            juminhyo_code=person.juminhyo_code or issue_juminhyo_code(juminhyo_code_in_use),
            surname=person.surname,
            given_name=person.given_name,
            surname_kana=person.surname_kana,
            given_name_kana=person.given_name_kana,
            birth_date=person.birth_date,
            sex=person.sex,
            household=household,
            relationship=person.relationship,
            address=household.address,
            katagaki=household.katagaki,
            address_established_on=change_date,
            became_resident_on=change_date,
            honseki_municipality=honseki,
            honseki_address=person.honseki_address if honseki else "",
            hittousha_name=person.hittousha_name if honseki else "",
            previous_municipality=previous,
            previous_address=previous_address.strip(),  # within previous_municipality, as `address` is within ours
        )
        # The restriction belongs to the person: their new 住民票 is restricted from its first save, and only an
        # actor with a grant for the person may write it (audit.visibility).
        resident.access_restricted = person_is_restricted(
            juminhyo_code=resident.juminhyo_code,
            surname=resident.surname,
            given_name=resident.given_name,
            birth_date=resident.birth_date,
        )
        require_may_change(resident)
        full_clean_or_raise(resident, validate_constraints=True)
        resident.save()
        result.residents.append(resident)
    new_head = head_name(household)
    for resident in result.residents:
        write_change(
            result,
            resident,
            reason,
            change_date,
            notified_on,
            previous_address=previous_text,
            new_address=ward_address(household.address, household.katagaki),
            new_head_name=new_head,
            new_household_number=household.number,
            filing=filing,
            note=note,
        )
        result.events.extend(sync_from_resident(resident, reason, result.change_group))
    return result


def juminhyo_code_in_use(code: str) -> bool:
    """Whether a 住民票コード is held by any 住民票 (incl. 除票) or 附票 row: an issued code must be fresh."""
    return (
        Resident.objects.filter(juminhyo_code=code).exists() or FuhyoEntry.objects.filter(juminhyo_code=code).exists()
    )


@transaction.atomic
def move_in(
    persons: list[PersonData],
    *,
    change_date: dt.date,
    notified_on: dt.date,
    previous_municipality: str | None,
    previous_address: str,
    household: Household | None = None,
    new_household: NewHousehold | None = None,
    from_abroad: bool = False,
    note: str = "",
) -> ChangeResult:
    """転入 (住基法22条): persons coming from another municipality (or from abroad) start living in the ward."""
    reason = ChangeReason.MOVE_IN_FROM_ABROAD if from_abroad else ChangeReason.MOVE_IN
    if from_abroad and previous_municipality:
        raise ServiceError({"previous_municipality": ["国外からの転入では従前の市区町村は指定しません。"]})
    return _enter(
        reason,
        persons,
        household=household,
        new_household=new_household,
        change_date=change_date,
        notified_on=notified_on,
        previous_municipality=previous_municipality,
        previous_address=previous_address,
        note=note,
    )


@transaction.atomic
def ex_officio_entry(
    persons: list[PersonData],
    *,
    change_date: dt.date,
    household: Household | None = None,
    new_household: NewHousehold | None = None,
    note: str,
    filing=None,
) -> ChangeResult:
    """職権記載 (住基法施行令12条): a 住民票 the ward writes on its own authority (実態調査, 戸籍の届出の通知 …)."""
    if not note.strip():
        raise ServiceError({"note": ["職権記載の理由を備考に入力してください。"]})
    return _enter(
        ChangeReason.EX_OFFICIO_ENTRY,
        persons,
        household=household,
        new_household=new_household,
        change_date=change_date,
        notified_on=None,
        note=note,
        filing=filing,
    )


@transaction.atomic
def birth(
    child: PersonData,
    *,
    household: Household,
    notified_on: dt.date | None,
    note: str = "",
    filing=None,
) -> ChangeResult:
    """出生: the newborn's 住民票, in the 世帯 it was born into. The 異動年月日 is the birth date. A 住民票コード is
    issued unless the 出生届 service already issued one for the 附票."""
    return _enter(
        ChangeReason.BIRTH,
        [child],
        household=household,
        new_household=None,
        change_date=child.birth_date,
        notified_on=notified_on,
        note=note,
        filing=filing,
    )
