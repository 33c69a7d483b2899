"""戸籍届出: one function per 届出事件 (domain.md §3.3), each in one transaction.

Each records the 届出 (KosekiFiling with the persons it concerns), changes the 戸籍 rows and the 附票 of this ward,
and — when a person concerned lives in the ward — the 住民票 through the registry services (氏名・本籍・筆頭者, 出生,
死亡). A person who lives elsewhere is listed in the `koseki.filed` event with the new 住民票 items, so that the
notice router can send the 住民票記載事項通知 (住基法9条2項) to that 住所地.

Effects by family:
- record only (認知, 親権, 未成年後見, 姻族関係終了, 推定相続人廃除, 国籍留保, 国籍選択, 外国国籍喪失): the 戸籍 gains a
  身分事項, but nothing that the 附票 or the 住民票 carries changes;
- a person enters a 戸籍 (出生, 帰化, 国籍取得, 就籍);
- a person leaves (死亡, 失踪, 国籍喪失);
- persons move from one 戸籍 to another, often with a new 氏 (婚姻, 離婚, 養子縁組, 離縁, 特別養子縁組・離縁, 入籍,
  分籍, 生存配偶者の復氏, 77条の2・73条の2 届);
- the whole 戸籍 moves (転籍), or its members' names change (氏の変更, 名の変更, 氏名の振り仮名).
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.visibility import require_may_change
from common.errors import ServiceError, clean_fields_or_raise, full_clean_or_raise
from common.events import record_event
from common.juminhyo_codes import issue_juminhyo_code
from common.models import ChangeEvent, Municipality
from common.validators import clean_kana, validate_name_part
from registry import services as registry_services
from registry.choices import ResidentStatus
from registry.models import Household, Resident
from registry.rules import Problems
from registry.services import validation as v
from registry.services.entries import NewHousehold, PersonData, juminhyo_code_in_use
from registry.services.results import ChangeResult

from ...choices import EntryStatus, FilingKind, FilingPersonRole, FilingStatus, FuhyoRecordKind, WardRole
from ...models import FilingPerson, FuhyoEntry, Koseki, KosekiFiling
from ...payloads import fuhyo_items
from .. import fuhyo
from .. import koseki as koseki_services

RECORD_ONLY_KINDS = frozenset(
    {
        FilingKind.RECOGNITION,
        FilingKind.PARENTAL_AUTHORITY,
        FilingKind.GUARDIANSHIP,
        FilingKind.AFFINITY_TERMINATION,
        FilingKind.DISINHERITANCE,
        FilingKind.NATIONALITY_RESERVATION,
        FilingKind.NATIONALITY_CHOICE,
        FilingKind.FOREIGN_NATIONALITY_LOSS,
    }
)
RELOCATION_KINDS = frozenset(
    {
        FilingKind.ADOPTION,
        FilingKind.ADOPTION_DISSOLUTION,
        FilingKind.SPECIAL_ADOPTION,
        FilingKind.SPECIAL_ADOPTION_DISSOLUTION,
        FilingKind.DIVORCE,
        FilingKind.DIVORCE_SURNAME,
        FilingKind.ADOPTION_SURNAME,
        FilingKind.SURNAME_RESTORATION,
        FilingKind.ENTRY,
        FilingKind.BRANCH,
    }
)
NEW_NATIONAL_KINDS = frozenset({FilingKind.NATURALIZATION, FilingKind.NATIONALITY_ACQUISITION, FilingKind.REGISTRATION})


# --- What the clerk supplies ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilingHeader:
    """届出日 (the day the 届書 was handed in), 受理日, 受理地 and why this ward handles it."""

    filed_on: dt.date
    accepted_on: dt.date | None = None  # default: filed_on
    received_at: str | None = None  # 地方公共団体コード of the 受理地; default: this ward
    ward_role: str = WardRole.HONSEKICHI
    note: str = ""


@dataclass(frozen=True)
class FiledPerson:
    """A person on the 届書. `entry` when the person is in a 戸籍 of this ward, `resident` when the person lives in
    the ward (either is found from the other by 住民票コード); otherwise the identity items and the 住所."""

    role: str = FilingPersonRole.SUBJECT
    entry: FuhyoEntry | None = None
    resident: Resident | None = None
    surname: str = ""
    given_name: str = ""
    surname_kana: str = ""
    given_name_kana: str = ""
    birth_date: dt.date | None = None
    sex: str = ""
    juminhyo_code: str = ""
    address_municipality: str | None = None
    address: str = ""


@dataclass(frozen=True)
class KosekiPlace:
    """Where a person's 戸籍 is after the filing: an existing 戸籍 of the ward, or a new 戸籍 (in the ward or in
    another municipality) with its 本籍 and 筆頭者."""

    koseki: Koseki | None = None
    honseki_municipality: str | None = None
    honseki_address: str = ""
    hittousha_surname: str = ""
    hittousha_given_name: str = ""

    @property
    def in_ward(self) -> bool:
        return self.koseki is not None or self.honseki_municipality == settings.WARD_LG_CODE


@dataclass
class FilingResult:
    filing: KosekiFiling
    entries: list[FuhyoEntry] = field(default_factory=list)
    resident_results: list[ChangeResult] = field(default_factory=list)
    events: list[ChangeEvent] = field(default_factory=list)


# --- The run of one filing ---------------------------------------------------------------------------------------


@dataclass
class _Person:
    spec: FiledPerson
    entry: FuhyoEntry | None
    resident: Resident | None
    row: FilingPerson
    juminhyo_changes: dict[str, Any] = field(default_factory=dict)
    removed: bool = False
    # The 附票 items of a person whose 本籍 left the ward: what the 本籍転属通知 carries to the new 本籍地.
    fuhyo_left_ward: dict[str, Any] | None = None
    # The identity as the 届書 (or our registers) gave it before the filing changed anything: carried by the event.
    filed_identity: dict[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        source = self.entry or self.resident
        if source is not None:
            return {f: getattr(source, f) for f in fuhyo.IDENTITY_FIELDS} | {"juminhyo_code": source.juminhyo_code}
        s = self.spec
        return {
            "surname": s.surname,
            "given_name": s.given_name,
            "surname_kana": s.surname_kana,
            "given_name_kana": s.given_name_kana,
            "birth_date": s.birth_date,
            "sex": s.sex,
            "juminhyo_code": s.juminhyo_code,
        }


class _Run:
    def __init__(self, filing: KosekiFiling, persons: list[_Person]):
        self.filing = filing
        self.persons = persons
        self.group = filing.change_group
        self.date = filing.accepted_on
        self.result = FilingResult(filing=filing)

    def add_resident_result(self, result: ChangeResult | None) -> None:
        if result is not None:
            self.result.resident_results.append(result)
            self.result.events.extend(result.events)


def _resident_for_code(code: str) -> Resident | None:
    if not code:
        return None
    return Resident.objects.filter(juminhyo_code=code, status=ResidentStatus.CURRENT).first()


def _begin(kind: str, header: FilingHeader, persons: list[FiledPerson], details: dict[str, Any]) -> _Run:
    now = timezone.localdate()
    accepted_on = header.accepted_on or header.filed_on
    problems: dict[str, list[str]] = {}
    if header.filed_on > now:
        problems.setdefault("filed_on", []).append("届出日が未来の日付です。")
    if accepted_on > now:
        problems.setdefault("accepted_on", []).append("受理日が未来の日付です。")
    if accepted_on < header.filed_on:
        problems.setdefault("accepted_on", []).append("受理日が届出日より前になっています。")
    received_at = Municipality.objects.filter(code=header.received_at or settings.WARD_LG_CODE).first()
    if received_at is None:
        problems.setdefault("received_at", []).append("受理地の地方公共団体コードが登録されていません。")
    if problems:
        raise ServiceError(problems)
    filing = KosekiFiling.objects.create(
        kind=kind,
        filed_on=header.filed_on,
        accepted_on=accepted_on,
        received_at=received_at,
        ward_role=header.ward_role,
        details=_jsonable(details),
        note=header.note,
        recorded_by_id=_actor_id(),
    )
    run_persons = []
    for spec in persons:
        entry, resident = spec.entry, spec.resident
        if entry is not None:
            entry = FuhyoEntry.objects.select_for_update().select_related("koseki").get(pk=entry.pk)
            if entry.status != EntryStatus.CURRENT:
                raise ServiceError({"persons": ["消除された附票記載（除籍された人）は届出の対象にできません。"]})
        if resident is not None:
            resident = Resident.objects.select_related("household").get(pk=resident.pk)
            if resident.status != ResidentStatus.CURRENT:
                raise ServiceError({"persons": ["除票の人は届出の対象にできません。"]})
        if resident is None and entry is not None:
            resident = _resident_for_code(entry.juminhyo_code)
        if entry is None and resident is not None:
            entry = fuhyo.current_entry_for_code(resident.juminhyo_code, lock=True)
        require_may_change(entry, resident)  # a restricted person: only an actor with a grant (audit.visibility)
        person = _Person(spec=spec, entry=entry, resident=resident, row=None)  # type: ignore[arg-type]
        ident = person.identity()
        person.filed_identity = ident
        address_municipality = (
            Municipality.objects.filter(code=spec.address_municipality).first() if spec.address_municipality else None
        )
        address = spec.address
        if resident is not None:
            address_municipality = Municipality.objects.get(code=settings.WARD_LG_CODE)
            address = resident.address
        elif entry is not None:
            # Picked from our 戸籍 and living elsewhere: the 附票 says where (the 住所地 that the 住民票記載事項通知,
            # 住基法9条2項, goes to). Decision 2: the 附票 comes before what the 届書 says; the 届書's 住所 is used
            # only when the 附票 shows none (国外転出, or no line yet).
            line = entry.current_address()
            if line is not None and not line.is_abroad and line.municipality_id:
                address_municipality, address = line.municipality, line.address
        row = FilingPerson(
            filing=filing,
            role=spec.role,
            surname=ident["surname"],
            given_name=ident["given_name"],
            birth_date=ident["birth_date"],
            sex=ident["sex"] or "",
            juminhyo_code=ident["juminhyo_code"] or "",
            address_municipality=address_municipality,
            address=address,
            fuhyo_entry=entry,
            resident=resident,
        )
        clean_fields_or_raise(row, ["juminhyo_code"])  # a typed 住民票コード: 11 digits and its check digit
        row.save()
        person.row = row
        run_persons.append(person)
    return _Run(filing, run_persons)


def _finish(run: _Run) -> FilingResult:
    filing = run.filing
    filing.status = FilingStatus.RECORDED
    filing.recorded_on = run.date
    filing.save(update_fields=["status", "recorded_on"])
    persons = []
    for p in run.persons:
        row = p.row
        persons.append(
            {
                "role": row.role,
                "filing_person_id": row.pk,
                "juminhyo_code": row.juminhyo_code,
                "surname": row.surname,
                "given_name": row.given_name,
                "birth_date": row.birth_date.isoformat() if row.birth_date else None,
                "sex": row.sex,
                "surname_kana": p.filed_identity.get("surname_kana") or "",
                "given_name_kana": p.filed_identity.get("given_name_kana") or "",
                "address": row.address,
                "address_municipality": row.address_municipality_id,
                "resident_in_ward": p.resident is not None,
                "juminhyo_changes": _jsonable(p.juminhyo_changes),
                "removed": p.removed,
                "fuhyo_left_ward": p.fuhyo_left_ward,
            }
        )
    payload = {
        "kind": filing.kind,
        "filed_on": filing.filed_on.isoformat(),
        "accepted_on": run.date.isoformat(),
        "received_at": filing.received_at_id,
        "persons": persons,
    }
    run.result.events.append(
        record_event(ChangeEvent.Kind.KOSEKI_FILED, run.group, filing.kind, payload, filing=filing)
    )
    return run.result


def _actor_id() -> int | None:
    from common.context import current

    ctx = current()
    return ctx.actor_id if ctx else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Koseki | FuhyoEntry | Resident | Household | Municipality):
        return value.pk
    return value


def _clean_new_name(surname: str | None, kana: str | None, field_prefix: str) -> tuple[str | None, str | None]:
    """A new 氏 (or 名) and its カナ, checked by the same rules as every other name (registry/services/validation)."""
    if surname is None:
        return None, None
    problems = Problems()
    surname = v.clean_name(problems, field_prefix, surname)
    kana = v.clean_kana_field(problems, f"{field_prefix}_kana", kana or "")
    problems.raise_if_any()
    return surname, kana


def _place_municipality(place: KosekiPlace) -> Municipality:
    code = settings.WARD_LG_CODE if place.koseki is not None else place.honseki_municipality
    found = Municipality.objects.filter(code=code).first() if code else None
    if found is None:
        raise ServiceError({"honseki_municipality": ["新しい本籍の市区町村（地方公共団体コード）を指定してください。"]})
    return found


def _validate_new_place(place: KosekiPlace) -> None:
    if place.koseki is not None:
        if not place.koseki.is_current:
            raise ServiceError({"koseki": ["除籍された戸籍には入籍できません。"]})
        return
    problems: dict[str, list[str]] = {}
    _place_municipality(place)
    if not place.honseki_address.strip():
        problems["honseki_address"] = ["新しい本籍の地番を入力してください。"]
    for name, label in (
        (place.hittousha_surname, "hittousha_surname"),
        (place.hittousha_given_name, "hittousha_given_name"),
    ):
        try:
            validate_name_part(name)
        except Exception as exc:  # noqa: BLE001
            problems[label] = list(getattr(exc, "messages", [str(exc)]))
    if problems:
        raise ServiceError(problems)


def _open_place(run: _Run, place: KosekiPlace, reason: str) -> KosekiPlace:
    """A new 戸籍 in the ward is opened once, before persons move into it."""
    _validate_new_place(place)
    if place.koseki is None and place.in_ward:
        koseki = koseki_services.open_koseki(
            place.honseki_address,
            place.hittousha_surname,
            place.hittousha_given_name,
            run.date,
            reason,
            run.group,
            filing=run.filing,
        )
        return KosekiPlace(koseki=koseki)
    return place


def _place_items(place: KosekiPlace) -> dict[str, Any]:
    """本籍 and 筆頭者 as the 住民票 writes them."""
    if place.koseki is not None:
        return {
            "honseki_municipality": settings.WARD_LG_CODE,
            "honseki_address": place.koseki.honseki_address,
            "hittousha_name": place.koseki.hittousha_name,
        }
    return {
        "honseki_municipality": place.honseki_municipality,
        "honseki_address": place.honseki_address.strip(),
        "hittousha_name": f"{place.hittousha_surname}　{place.hittousha_given_name}",
    }


def _fuhyo_address_of(person: _Person) -> tuple[fuhyo.AddressData | None, dt.date | None]:
    if person.entry is not None:
        current = person.entry.current_address()
        if current is not None:
            return (
                fuhyo.AddressData(current.municipality, current.address, current.is_abroad, current.country),
                current.established_on,
            )
    if person.resident is not None:
        return fuhyo.ward_address_of(person.resident), person.resident.address_established_on
    spec = person.spec
    if spec.address_municipality:
        municipality = Municipality.objects.filter(code=spec.address_municipality).first()
        if municipality is not None:
            return fuhyo.AddressData(municipality, spec.address), None
    return None, None


def _update_resident(run: _Run, person: _Person, changes: dict[str, Any]) -> None:
    """The 住民票 follows the 戸籍 (same ward: no notice); for a person living elsewhere the changes are listed for
    the 住民票記載事項通知."""
    person.juminhyo_changes.update(changes)
    if person.resident is not None:
        run.add_resident_result(
            registry_services.apply_koseki_change(
                person.resident,
                changes,
                change_date=run.date,
                notified_on=run.filing.filed_on,
                filing=run.filing,
                note=run.filing.get_kind_display(),
            )
        )
        person.resident.refresh_from_db()


def _relocate(
    run: _Run,
    person: _Person,
    place: KosekiPlace,
    reason: str,
    *,
    new_surname: str | None = None,
    new_surname_kana: str | None = None,
    close_reason: str = "全員除籍",
) -> None:
    """The person leaves the current 戸籍 of the ward (if any) and enters `place` (if it is in the ward), taking the
    new 氏 when given; the 住民票 follows."""
    target = place.koseki
    old = person.entry
    address, established_on = _fuhyo_address_of(person)
    identity = person.identity()
    if new_surname is not None:
        identity["surname"], identity["surname_kana"] = new_surname, new_surname_kana
    if old is not None and (target is None or old.koseki_id != target.pk):
        run.result.events.append(fuhyo.remove_person(old, run.date, reason, run.group, filing=run.filing))
        koseki_services.close_if_empty(old.koseki, run.date, close_reason, run.group, filing=run.filing)
        if target is None:
            person.fuhyo_left_ward = fuhyo_items(old, FuhyoRecordKind.REMOVAL, reason, run.date)
    if target is not None and (old is None or old.koseki_id != target.pk):
        entry, event = fuhyo.enter_person(
            target,
            surname=identity["surname"],
            given_name=identity["given_name"],
            surname_kana=identity["surname_kana"],
            given_name_kana=identity["given_name_kana"],
            birth_date=identity["birth_date"],
            sex=identity["sex"],
            juminhyo_code=identity["juminhyo_code"] or "",
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
    elif target is not None and old is not None and new_surname is not None:
        run.result.events.append(
            fuhyo.amend_person(
                old,
                {"surname": new_surname, "surname_kana": new_surname_kana},
                reason,
                run.group,
                filing=run.filing,
            )
        )
    changes = _place_items(place)
    if new_surname is not None:
        changes |= {"surname": new_surname, "surname_kana": new_surname_kana}
    _update_resident(run, person, changes)


# --- Record-only filings ---------------------------------------------------------------------------------------


@transaction.atomic
def file_record_only(
    kind: str, header: FilingHeader, persons: list[FiledPerson], details: dict[str, Any] | None = None
) -> FilingResult:
    """認知, 親権, 未成年後見, 姻族関係終了, 推定相続人廃除, 国籍留保, 国籍選択, 外国国籍喪失:
    the 戸籍 gains a 身分事項; no
    item of the 附票 or the 住民票 changes, so nothing else is written and no notice is due."""
    if kind not in RECORD_ONLY_KINDS:
        raise ServiceError({"kind": ["この届出事件は記録のみの届出ではありません。"]})
    if not persons:
        raise ServiceError({"persons": ["事件本人を入力してください。"]})
    run = _begin(kind, header, persons, details or {})
    return _finish(run)


# --- A person enters a 戸籍 ---------------------------------------------------------------------------------------


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
    _validate_new_place(parents_koseki)
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
    run = _begin(FilingKind.BIRTH, header, [spec, *parents], {"birth_date": child.birth_date})
    person = run.persons[0]
    place_items = _place_items(parents_koseki)
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
    return _finish(run)


def _enter_ward_koseki(
    run: _Run,
    person: _Person,
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
    run = _begin(kind, header, [spec], {})
    label = FilingKind(kind).label
    place = _open_place(run, place, label)
    p = run.persons[0]
    lives_here = household is not None or new_household is not None
    code = person.juminhyo_code or (issue_juminhyo_code(juminhyo_code_in_use) if lives_here else "")
    p.spec = FiledPerson(**{**spec.__dict__, "juminhyo_code": code})
    if not lives_here:
        _relocate(run, p, place, label)
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
                    **_place_items(place),
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
        p.juminhyo_changes = {"entered": kind, **_place_items(place)}
    p.row.fuhyo_entry, p.row.resident, p.row.juminhyo_code = p.entry, p.resident, code
    p.row.save(update_fields=["fuhyo_entry", "resident", "juminhyo_code"])
    return _finish(run)


# --- A person leaves ---------------------------------------------------------------------------------------------


@transaction.atomic
def file_death(
    header: FilingHeader,
    subject: FiledPerson,
    *,
    date_of_death: dt.date,
    kind: str = FilingKind.DEATH,
    remaining_head: Resident | None = None,
    relationships: dict[int, str] | None = None,
    notifier: FiledPerson | None = None,
) -> FilingResult:
    """死亡届 (86条), 失踪 (94条, 失踪宣告の届), 国籍喪失 (103条): the person is removed from the 戸籍 and the
    附票, and a
    resident's 住民票 becomes a 除票. A 戸籍 left without members is closed (全員除籍)."""
    if kind not in (FilingKind.DEATH, FilingKind.DISAPPEARANCE, FilingKind.NATIONALITY_LOSS):
        raise ServiceError({"kind": ["死亡・失踪・国籍喪失の届出ではありません。"]})
    if date_of_death > (header.accepted_on or header.filed_on):
        raise ServiceError({"date_of_death": ["死亡（失踪・喪失）の日が届出の受理日より後になっています。"]})
    run = _begin(kind, header, [subject, *([notifier] if notifier else [])], {"date": date_of_death})
    person = run.persons[0]
    label = FilingKind(kind).label
    if person.entry is None and person.resident is None and not subject.address_municipality:
        raise ServiceError({"persons": ["事件本人が区の戸籍にも住民票にも見つかりません。住所を入力してください。"]})
    if person.entry is not None:
        run.result.events.append(fuhyo.remove_person(person.entry, date_of_death, label, run.group, filing=run.filing))
        koseki_services.close_if_empty(person.entry.koseki, run.date, "全員除籍", run.group, filing=run.filing)
    if person.resident is not None:
        if kind == FilingKind.DEATH:
            removal = registry_services.death(
                person.resident,
                date_of_death=date_of_death,
                notified_on=header.filed_on,
                remaining_head=remaining_head,
                relationships=relationships,
                filing=run.filing,
            )
        else:
            removal = registry_services.ex_officio_removal(
                [person.resident],
                change_date=date_of_death,
                note=label,
                remaining_head=remaining_head,
                relationships=relationships,
                filing=run.filing,
            )
        run.add_resident_result(removal)
    person.removed = True
    person.juminhyo_changes = {"removed": kind, "date": date_of_death}
    return _finish(run)


# --- Persons move between 戸籍 -------------------------------------------------------------------------------------


@transaction.atomic
def file_marriage(
    header: FilingHeader,
    husband: FiledPerson,
    wife: FiledPerson,
    *,
    surname_from: str,
    place: KosekiPlace,
) -> FilingResult:
    """婚姻届 (74条): the couple takes the 氏 of `surname_from` ("husband" or "wife") and is written in `place`: a new
    戸籍 (in the ward or elsewhere) whose 筆頭者 is that spouse, or the 戸籍 of which that spouse is already 筆頭者.
    Each spouse leaves a 戸籍 of the ward they were in; the other spouse's 氏 and カナ change on 附票 and 住民票."""
    if surname_from not in ("husband", "wife"):
        raise ServiceError({"surname_from": ["婚姻後の氏（夫の氏・妻の氏）を選んでください。"]})
    husband = FiledPerson(**{**husband.__dict__, "role": FilingPersonRole.SUBJECT})
    wife = FiledPerson(**{**wife.__dict__, "role": FilingPersonRole.SPOUSE})
    run = _begin(FilingKind.MARRIAGE, header, [husband, wife], {"surname_from": surname_from})
    keeper, changer = (
        (run.persons[0], run.persons[1]) if surname_from == "husband" else (run.persons[1], run.persons[0])
    )
    k = keeper.identity()
    if place.koseki is None:
        place = KosekiPlace(
            honseki_municipality=place.honseki_municipality,
            honseki_address=place.honseki_address,
            hittousha_surname=k["surname"],
            hittousha_given_name=k["given_name"],
        )
    elif place.koseki.hittousha_name != f"{k['surname']}　{k['given_name']}":
        raise ServiceError({"koseki": ["既存の戸籍に入るのは、その戸籍の筆頭者の氏を称するときだけです。"]})
    place = _open_place(run, place, "婚姻")
    _relocate(run, keeper, place, "婚姻")
    _relocate(run, changer, place, "婚姻", new_surname=k["surname"], new_surname_kana=k["surname_kana"])
    return _finish(run)


@transaction.atomic
def file_relocation(
    kind: str,
    header: FilingHeader,
    subjects: list[FiledPerson],
    place: KosekiPlace,
    *,
    new_surname: str | None = None,
    new_surname_kana: str | None = None,
    others: list[FiledPerson] = (),
) -> FilingResult:
    """養子縁組 (66条), 養子離縁 (70条), 特別養子縁組・離縁, 離婚 (76条), 77条の2・73条の2 の届,
    生存配偶者の復氏 (95条),
    入籍 (98条), 分籍 (100条): each subject leaves the 戸籍 of the ward they are in (if any) and enters `place`,
    taking `new_surname` when the 氏 changes. For a new 戸籍 the 筆頭者 is the first subject unless given."""
    if kind not in RELOCATION_KINDS:
        raise ServiceError({"kind": ["この届出事件は入除籍を伴う届出ではありません。"]})
    if not subjects:
        raise ServiceError({"persons": ["事件本人を入力してください。"]})
    new_surname, new_surname_kana = _clean_new_name(new_surname, new_surname_kana, "new_surname")
    run = _begin(kind, header, [*subjects, *others], {"new_surname": new_surname})
    label = FilingKind(kind).label
    first = run.persons[0].identity()
    if place.koseki is None and not place.hittousha_surname:
        place = KosekiPlace(
            honseki_municipality=place.honseki_municipality,
            honseki_address=place.honseki_address,
            hittousha_surname=new_surname or first["surname"],
            hittousha_given_name=first["given_name"],
        )
    place = _open_place(run, place, label)
    for person in run.persons[: len(subjects)]:
        if person.entry is None and person.resident is None and not person.spec.address_municipality:
            raise ServiceError(
                {"persons": ["事件本人が区の戸籍にも住民票にも見つかりません。住所を入力してください。"]}
            )
        current_surname = person.identity()["surname"]
        changing = new_surname is not None and new_surname != current_surname
        _relocate(
            run,
            person,
            place,
            label,
            new_surname=new_surname if changing else None,
            new_surname_kana=new_surname_kana if changing else None,
        )
    return _finish(run)


@transaction.atomic
def file_honseki_transfer(header: FilingHeader, koseki: Koseki, new_place: KosekiPlace) -> FilingResult:
    """転籍届 (108条): the whole 戸籍 moves to a new 本籍. Within the ward (管内転籍) the 本籍 of the same 戸籍 is
    corrected: no new 戸籍, the 附票 continues with its address history under the corrected 戸籍の表示, J-LIS gets
    one 修正 per member and the 住民票 follow (decision 13). To another municipality every member leaves, the 戸籍
    is closed and the new 本籍地 is told by the 本籍転属通知."""
    if new_place.koseki is not None:
        raise ServiceError({"koseki": ["転籍先には新しい本籍を指定してください。"]})
    koseki = Koseki.objects.select_for_update().get(pk=koseki.pk)
    if not koseki.is_current:
        raise ServiceError({"koseki": ["除籍された戸籍は転籍できません。"]})
    if new_place.in_ward and new_place.honseki_address.strip() == koseki.honseki_address:
        raise ServiceError({"honseki_address": ["新しい本籍が今の本籍と同じです。"]})
    members = list(koseki.entries.filter(status=EntryStatus.CURRENT).order_by("position"))
    subjects = [FiledPerson(role=FilingPersonRole.SUBJECT, entry=e) for e in members]
    new_place = KosekiPlace(
        honseki_municipality=new_place.honseki_municipality,
        honseki_address=new_place.honseki_address,
        hittousha_surname=koseki.hittousha_surname,
        hittousha_given_name=koseki.hittousha_given_name,
    )
    run = _begin(
        FilingKind.HONSEKI_TRANSFER, header, subjects, {"from_koseki": koseki.pk, "to": _place_items(new_place)}
    )
    if new_place.in_ward:
        return _transfer_within_ward(run, koseki, new_place)
    place = _open_place(run, new_place, "転籍")
    for person in run.persons:
        _relocate(run, person, place, "転籍", close_reason="転籍")
    koseki_services.close_if_empty(koseki, run.date, "転籍", run.group, filing=run.filing)
    return _finish(run)


def _transfer_within_ward(run: _Run, koseki: Koseki, new_place: KosekiPlace) -> FilingResult:
    _validate_new_place(new_place)
    koseki.honseki_address = new_place.honseki_address.strip()
    full_clean_or_raise(koseki, validate_constraints=True)
    koseki.save(update_fields=["honseki_address", "updated_at"])
    for person in run.persons:
        run.result.events.append(fuhyo.koseki_display_corrected(person.entry, "転籍", run.group, filing=run.filing))
        _update_resident(run, person, {"honseki_address": koseki.honseki_address})
    return _finish(run)


# --- Names change --------------------------------------------------------------------------------------------------


@transaction.atomic
def file_surname_change(header: FilingHeader, koseki: Koseki, new_surname: str, new_surname_kana: str) -> FilingResult:
    """氏の変更届 (107条): the 氏 of the 戸籍 changes for every member in it, on the 附票 and the 住民票, and the
    筆頭者の氏名 of every member's 住民票 with it."""
    new_surname, new_surname_kana = _clean_new_name(new_surname, new_surname_kana, "new_surname")
    koseki = Koseki.objects.select_for_update().get(pk=koseki.pk)
    if not koseki.is_current:
        raise ServiceError({"koseki": ["除籍された戸籍の氏は変更できません。"]})
    if new_surname == koseki.hittousha_surname:
        raise ServiceError({"new_surname": ["新しい氏が今の氏と同じです。"]})
    members = list(koseki.entries.filter(status=EntryStatus.CURRENT).order_by("position"))
    run = _begin(
        FilingKind.SURNAME_CHANGE, header, [FiledPerson(entry=e) for e in members], {"new_surname": new_surname}
    )
    koseki.hittousha_surname = new_surname
    koseki.save(update_fields=["hittousha_surname", "updated_at"])
    for person in run.persons:
        changes = {"surname": new_surname, "surname_kana": new_surname_kana}
        run.result.events.append(fuhyo.amend_person(person.entry, changes, "氏の変更", run.group, filing=run.filing))
        _update_resident(run, person, changes | {"hittousha_name": koseki.hittousha_name})
    _sync_hittousha_of_others(run, koseki)
    return _finish(run)


@transaction.atomic
def file_given_name_change(
    header: FilingHeader, subject: FiledPerson, new_given_name: str, new_given_name_kana: str
) -> FilingResult:
    """名の変更届 (107条の2): the person's 名 and its カナ change; when the person is 筆頭者, so does the 筆頭者の氏名
    on the 住民票 of every member of the 戸籍."""
    new_given_name, new_given_name_kana = _clean_new_name(new_given_name, new_given_name_kana, "new_given_name")
    if subject.entry is None:
        raise ServiceError({"persons": ["名の変更は区の戸籍にある人について受け付けます。"]})
    run = _begin(FilingKind.GIVEN_NAME_CHANGE, header, [subject], {"new_given_name": new_given_name})
    person = run.persons[0]
    entry = person.entry
    koseki = Koseki.objects.select_for_update().get(pk=entry.koseki_id)
    was_hittousha = koseki.hittousha_name == entry.name
    changes = {"given_name": new_given_name, "given_name_kana": new_given_name_kana}
    if was_hittousha:  # first, so that the 附票's event carries the new 筆頭者
        koseki.hittousha_given_name = new_given_name
        koseki.save(update_fields=["hittousha_given_name", "updated_at"])
    run.result.events.append(fuhyo.amend_person(entry, changes, "名の変更", run.group, filing=run.filing))
    if was_hittousha:
        changes |= {"hittousha_name": koseki.hittousha_name}
    _update_resident(run, person, changes)
    if was_hittousha:
        _sync_hittousha_of_others(run, koseki, exclude={entry.pk})
    return _finish(run)


@transaction.atomic
def file_furigana(header: FilingHeader, subject: FiledPerson, surname_kana: str, given_name_kana: str) -> FilingResult:
    """氏名の振り仮名の届 (令和5年改正, 2025-05-26 施行): the カナ of 氏 and 名 as the 戸籍 now records them."""
    if subject.entry is None:
        raise ServiceError({"persons": ["振り仮名の届は区の戸籍にある人について受け付けます。"]})
    surname_kana, given_name_kana = _clean_kana_pair(surname_kana, given_name_kana)
    run = _begin(FilingKind.FURIGANA, header, [subject], {})
    person = run.persons[0]
    changes = {"surname_kana": surname_kana, "given_name_kana": given_name_kana}
    run.result.events.append(fuhyo.amend_person(person.entry, changes, "振り仮名", run.group, filing=run.filing))
    _update_resident(run, person, changes)
    return _finish(run)


def _clean_kana_pair(surname_kana: str, given_name_kana: str) -> tuple[str, str]:
    problems = Problems()
    surname_kana = v.clean_kana_field(problems, "surname_kana", surname_kana)
    given_name_kana = v.clean_kana_field(problems, "given_name_kana", given_name_kana)
    problems.raise_if_any()
    return surname_kana, given_name_kana


def _sync_hittousha_of_others(run: _Run, koseki: Koseki, exclude: set[int] = frozenset()) -> None:
    """Members of the 戸籍 not already handled get the new 筆頭者の氏名 on their 住民票."""
    handled = {p.entry.pk for p in run.persons if p.entry is not None} | set(exclude)
    for entry in koseki.entries.filter(status=EntryStatus.CURRENT).exclude(pk__in=handled):
        resident = _resident_for_code(entry.juminhyo_code)
        if resident is not None:
            run.add_resident_result(
                registry_services.apply_koseki_change(
                    resident,
                    {"hittousha_name": koseki.hittousha_name},
                    change_date=run.date,
                    notified_on=run.filing.filed_on,
                    filing=run.filing,
                    note=run.filing.get_kind_display(),
                )
            )


# Which service records each 届出事件: every kind of FilingKind has exactly one (a test holds this).
SERVICE_FOR_KIND: dict[str, object] = {
    **dict.fromkeys(RECORD_ONLY_KINDS, file_record_only),
    **dict.fromkeys(RELOCATION_KINDS, file_relocation),
    **dict.fromkeys(NEW_NATIONAL_KINDS, file_new_national),
    FilingKind.BIRTH: file_birth,
    FilingKind.DEATH: file_death,
    FilingKind.DISAPPEARANCE: file_death,
    FilingKind.NATIONALITY_LOSS: file_death,
    FilingKind.MARRIAGE: file_marriage,
    FilingKind.HONSEKI_TRANSFER: file_honseki_transfer,
    FilingKind.SURNAME_CHANGE: file_surname_change,
    FilingKind.GIVEN_NAME_CHANGE: file_given_name_change,
    FilingKind.FURIGANA: file_furigana,
}
