"""戸籍届出 by which a person enters a 戸籍: 出生 (49条); 帰化・国籍取得・就籍."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from common.errors import ServiceError
from common.juminhyo_codes import issue_juminhyo_code
from common.models import Municipality
from common.validators import clean_kana
from registry import services as registry_services
from registry.models import Household
from registry.services.entries import NewHousehold, PersonData, juminhyo_code_in_use

from ...choices import FilingKind, FilingPersonRole
from ...models import Koseki
from .. import fuhyo
from .base import (
    FiledPerson,
    FilingHeader,
    FilingResult,
    KosekiPlace,
    Run,
    RunPerson,
    begin,
    finish,
    move_to_place,
    open_place,
    place_items_of,
    validate_new_place,
)

NEW_NATIONAL_KINDS = frozenset({FilingKind.NATURALIZATION, FilingKind.NATIONALITY_ACQUISITION, FilingKind.REGISTRATION})


@dataclass(frozen=True)
class Newborn:
    surname: str
    given_name: str
    surname_kana: str
    given_name_kana: str
    birth_date: dt.date
    sex: str


@transaction.atomic
def file_birth(
    header: FilingHeader,
    child: Newborn,
    parents_koseki: KosekiPlace,
    *,
    household: Household | None = None,
    relationship: str = "子",
    address_municipality: str | None = None,
    address: str = "",
    parents: list[FiledPerson] = (),
) -> FilingResult:
    """出生届 (49条): the child enters the parents' 戸籍 (a 戸籍 of the ward: 附票 記載) and, when born into a
    世帯 of the ward, gets a 住民票 (出生) with a new 住民票コード. A child living elsewhere is announced to that
    住所地."""
    if household is None and not address_municipality:
        raise ServiceError({"household": ["子の住所（区内の世帯、または区外の住所）を指定してください。"]})
    if household is not None and not household.is_active:
        raise ServiceError({"household": ["この世帯はすでに消滅しています。"]})
    if parents_koseki.koseki is None and parents_koseki.in_ward:
        raise ServiceError({"koseki": ["子が入る区内の戸籍を指定してください。"]})
    validate_new_place(parents_koseki)
    spec = FiledPerson(
        role=FilingPersonRole.SUBJECT,
        surname=child.surname,
        given_name=child.given_name,
        surname_kana=child.surname_kana,
        given_name_kana=child.given_name_kana,
        birth_date=child.birth_date,
        sex=child.sex,
        address_municipality=address_municipality,
        address=address,
    )
    run = begin(FilingKind.BIRTH, header, [spec, *parents], {"birth_date": child.birth_date})
    person = run.persons[0]
    place_items = place_items_of(parents_koseki)
    code = issue_juminhyo_code(juminhyo_code_in_use) if household is not None else ""
    if parents_koseki.koseki is not None:
        # The 附票 row is written first, so that the 住民票's sync below finds it and agrees with it.
        if household is not None:
            hh = Household.objects.get(pk=household.pk)
            addr = fuhyo.ward_address(hh.address, hh.katagaki)
        else:
            municipality = Municipality.objects.filter(code=address_municipality).first()
            if municipality is None:
                raise ServiceError({"address_municipality": ["子の住所の市区町村が登録されていません。"]})
            addr = fuhyo.AddressData(municipality, address.strip())
        _enter_ward_koseki(
            run,
            person,
            parents_koseki.koseki,
            child,
            code=code,
            address=addr,
            established_on=child.birth_date,
            reason="出生",
        )
    if household is not None:
        birth_result = registry_services.birth(
            PersonData(
                surname=child.surname,
                given_name=child.given_name,
                surname_kana=child.surname_kana,
                given_name_kana=child.given_name_kana,
                birth_date=child.birth_date,
                sex=child.sex,
                relationship=relationship,
                juminhyo_code=code,
                **place_items,
            ),
            household=household,
            notified_on=header.filed_on,
            filing=run.filing,
            note="出生届",
        )
        run.add_resident_result(birth_result)
        person.resident = birth_result.residents[0]
    person.row.fuhyo_entry = person.entry
    person.row.resident = person.resident
    person.row.juminhyo_code = code
    person.row.save(update_fields=["fuhyo_entry", "resident", "juminhyo_code"])
    person.juminhyo_changes = {"entered": "birth", **place_items}
    return finish(run)


def _enter_ward_koseki(
    run: Run,
    person: RunPerson,
    koseki: Koseki,
    who: "Newborn | NewNational",
    *,
    code: str,
    address: fuhyo.AddressData,
    established_on: dt.date,
    reason: str,
) -> None:
    """A new person enters a 戸籍 of the ward (附票 記載). Written before the 住民票, so that the 住民票's sync
    finds the row and agrees with it."""
    entry, event = fuhyo.enter_person(
        koseki,
        surname=who.surname,
        given_name=who.given_name,
        surname_kana=_kana(who.surname_kana),
        given_name_kana=_kana(who.given_name_kana),
        birth_date=who.birth_date,
        sex=who.sex,
        juminhyo_code=code,
        address=address,
        address_established_on=established_on,
        entered_on=run.date,
        reason=reason,
        group=run.group,
        filing=run.filing,
    )
    person.entry = entry
    run.result.entries.append(entry)
    run.result.events.append(event)


def _kana(value: str) -> str:
    try:
        return clean_kana(value)
    except Exception:  # noqa: BLE001 - validated again, with a message, by the model's full_clean
        return value


@dataclass(frozen=True)
class NewNational:
    """A person who becomes a Japanese national (帰化, 国籍取得) or is registered (就籍), with the 住民票コード they
    already hold as a foreign resident (if any)."""

    surname: str
    given_name: str
    surname_kana: str
    given_name_kana: str
    birth_date: dt.date
    sex: str
    juminhyo_code: str = ""


@transaction.atomic
def file_new_national(
    kind: str,
    header: FilingHeader,
    person: NewNational,
    place: KosekiPlace,
    *,
    household: Household | None = None,
    new_household: NewHousehold | None = None,
    relationship: str = "世帯主",
    address_municipality: str | None = None,
    address: str = "",
) -> FilingResult:
    """帰化 (102条の2), 国籍取得 (102条), 就籍 (110条): the person enters a 戸籍 (often a new one) and, living in the
    ward, gets a 住民票 of a Japanese resident by 職権記載 (the foreign resident's record is outside this system)."""
    if kind not in NEW_NATIONAL_KINDS:
        raise ServiceError({"kind": ["帰化・国籍取得・就籍の届出ではありません。"]})
    spec = FiledPerson(
        surname=person.surname,
        given_name=person.given_name,
        surname_kana=person.surname_kana,
        given_name_kana=person.given_name_kana,
        birth_date=person.birth_date,
        sex=person.sex,
        juminhyo_code=person.juminhyo_code,
        address_municipality=address_municipality,
        address=address,
    )
    run = begin(kind, header, [spec], {})
    label = FilingKind(kind).label
    place = open_place(run, place, label)
    p = run.persons[0]
    lives_here = household is not None or new_household is not None
    code = person.juminhyo_code or (issue_juminhyo_code(juminhyo_code_in_use) if lives_here else "")
    p.spec = FiledPerson(**{**spec.__dict__, "juminhyo_code": code})
    if not lives_here:
        move_to_place(run, p, place, label)
    else:
        if place.koseki is not None:
            addr_household = household or Household(address=new_household.address, katagaki=new_household.katagaki)
            _enter_ward_koseki(
                run,
                p,
                place.koseki,
                person,
                code=code,
                address=fuhyo.ward_address(addr_household.address, addr_household.katagaki),
                established_on=run.date,
                reason=label,
            )
        entry_result = registry_services.ex_officio_entry(
            [
                PersonData(
                    surname=person.surname,
                    given_name=person.given_name,
                    surname_kana=person.surname_kana,
                    given_name_kana=person.given_name_kana,
                    birth_date=person.birth_date,
                    sex=person.sex,
                    relationship=relationship,
                    juminhyo_code=code,
                    **place_items_of(place),
                )
            ],
            change_date=run.date,
            household=household,
            new_household=new_household,
            note=label,
            filing=run.filing,
        )
        run.add_resident_result(entry_result)
        p.resident = entry_result.residents[0]
        p.juminhyo_changes = {"entered": kind, **place_items_of(place)}
    p.row.fuhyo_entry, p.row.resident, p.row.juminhyo_code = p.entry, p.resident, code
    p.row.save(update_fields=["fuhyo_entry", "resident", "juminhyo_code"])
    return finish(run)
