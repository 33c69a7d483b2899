"""What every 戸籍届出 service shares: what the clerk supplies (FilingHeader, FiledPerson, KosekiPlace), the run of
one filing (begin → … → finish, which records the KosekiFiling and the `koseki.filed` event), and the moves of a person
between 戸籍 that several families of 届出 make."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from audit.visibility import require_may_change
from common.context import require_context
from common.errors import ServiceError, clean_fields_or_raise
from common.events import record_event
from common.items import IDENTITY_ITEMS
from common.models import ChangeEvent, Municipality
from common.validators import validate_name_part
from registry import services as registry_services
from registry.choices import ResidentStatus
from registry.models import Household, Resident
from registry.rules import Problems
from registry.services import validation as v
from registry.services.results import ChangeResult

from ...choices import EntryStatus, FilingPersonRole, FilingStatus, FuhyoRecordKind, WardRole
from ...models import FilingPerson, FuhyoEntry, Koseki, KosekiFiling
from ...payloads import fuhyo_items
from .. import fuhyo
from .. import koseki as koseki_services

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
class RunPerson:
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
            return {f: getattr(source, f) for f in IDENTITY_ITEMS} | {"juminhyo_code": source.juminhyo_code}
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


class Run:
    def __init__(self, filing: KosekiFiling, persons: list[RunPerson]):
        self.filing = filing
        self.persons = persons
        self.group = filing.change_group
        self.date = filing.accepted_on
        self.result = FilingResult(filing=filing)

    def add_resident_result(self, result: ChangeResult | None) -> None:
        if result is not None:
            self.result.resident_results.append(result)
            self.result.events.extend(result.events)


def resident_for_code(code: str) -> Resident | None:
    if not code:
        return None
    return Resident.objects.filter(juminhyo_code=code, status=ResidentStatus.CURRENT).first()


def begin(kind: str, header: FilingHeader, persons: list[FiledPerson], details: dict[str, Any]) -> Run:
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
            resident = resident_for_code(entry.juminhyo_code)
        if entry is None and resident is not None:
            entry = fuhyo.current_entry_for_code(resident.juminhyo_code, lock=True)
        require_may_change(entry, resident)  # a restricted person: only an actor with a grant (audit.visibility)
        person = RunPerson(spec=spec, entry=entry, resident=resident, row=None)  # type: ignore[arg-type]
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
            # 住基法9条2項, goes to). The 附票 comes before what the 届書 says; the 届書's 住所 is used
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
    return Run(filing, run_persons)


def finish(run: Run) -> FilingResult:
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
    return require_context().actor_id


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


def clean_new_name(surname: str | None, kana: str | None, field_prefix: str) -> tuple[str | None, str | None]:
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


def validate_new_place(place: KosekiPlace) -> None:
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


def open_place(run: Run, place: KosekiPlace, reason: str) -> KosekiPlace:
    """A new 戸籍 in the ward is opened once, before persons move into it."""
    validate_new_place(place)
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


def place_items_of(place: KosekiPlace) -> dict[str, Any]:
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


def fuhyo_address_of(person: RunPerson) -> tuple[fuhyo.AddressData | None, dt.date | None]:
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


def update_resident(run: Run, person: RunPerson, changes: dict[str, Any]) -> None:
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


def move_to_place(
    run: Run,
    person: RunPerson,
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
    address, established_on = fuhyo_address_of(person)
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
    changes = place_items_of(place)
    if new_surname is not None:
        changes |= {"surname": new_surname, "surname_kana": new_surname_kana}
    update_resident(run, person, changes)
