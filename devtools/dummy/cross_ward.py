"""Cross-ward dummy people: the same persons seen from two instances of this system (the demo's 新宿区 and 渋谷区, the
end-to-end test's two wards), so that a notice one sends names someone the other holds.

`cross_ward_people(code_a, code_b, count, seed)` draws `count` persons from a random generator seeded by the two
codes (sorted) and `seed` only, so both instances, each calling it with its own code first, get the same list: names,
birth dates, 住民票コード, addresses and 本籍. Half of them live in the first municipality (by code) and hold their
本籍 in the second, the other half the other way round. Each person is single, 筆頭者 of a 戸籍 of their own (分籍).

`write_cross_ward(partner, count, seed)` writes this ward's side of them: a 住民票 (one-person 世帯, 転入 from the
partner) for those who live here, a 戸籍 with its 附票 (current address in the partner municipality) for those whose
本籍 is here. It reuses the bulk writer of the seed (no ChangeEvent: seeding raises no notice) and is idempotent: a
person whose 住民票コード this ward already holds is skipped.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from common import context
from common.juminhyo_codes import random_juminhyo_code
from common.models import Municipality
from koseki_fuhyo.models import FuhyoEntry
from registry.addresses import with_katagaki
from registry.choices import ChangeReason, Sex
from registry.models import Resident

from . import names
from .addresses import WardAddress, elsewhere_address, elsewhere_honseki, randint
from .families import Event, HouseholdPlan, KosekiPlan, Line, Person, ResidentPlan
from .writer import Batch, Writer

SOURCE = "command:seed_dummy"
DAY = timedelta(days=1)


@dataclass(frozen=True)
class CrossPerson:
    """One person as both instances know them."""

    juminhyo_code: str
    surname: str
    given_name: str
    surname_kana: str
    given_name_kana: str
    birth_date: date
    sex: str
    lives_in: str  # 地方公共団体コード of the 住所地
    address: str  # after the municipality's name
    address_established_on: date
    previous_address: str  # in honseki_in, before moving to lives_in
    honseki_in: str  # 地方公共団体コード of the 本籍地
    honseki_address: str
    koseki_formed_on: date  # 分籍

    @property
    def name(self) -> str:
        return f"{self.surname}　{self.given_name}"


def _day(rng: random.Random, lo: date, hi: date) -> date:
    return lo + timedelta(days=randint(rng, 0, (hi - lo).days))


def cross_ward_people(code_a: str, code_b: str, count: int, seed: int = 0) -> list[CrossPerson]:
    """The same `count` persons for (a, b) and (b, a): see the module docstring."""
    first, second = sorted((code_a, code_b))
    rng = random.Random(f"cross-ward:{first}:{second}:{seed}")
    people = []
    for i in range(count):
        lives_in, honseki_in = (first, second) if i % 2 == 0 else (second, first)
        sex = Sex.MALE if rng.random() < 0.5 else Sex.FEMALE
        birth = _day(rng, date(1950, 1, 1), date(2000, 12, 31))
        surname, surname_kana = names.surname(rng)
        given_name, given_name_kana = names.given_name(rng, sex, birth)
        formed = _day(rng, birth.replace(year=birth.year + 20), date(2021, 12, 31))
        settled = _day(rng, formed + DAY, date(2024, 12, 31))
        people.append(
            CrossPerson(
                juminhyo_code=random_juminhyo_code(rng),
                surname=surname,
                given_name=given_name,
                surname_kana=surname_kana,
                given_name_kana=given_name_kana,
                birth_date=birth,
                sex=sex,
                lives_in=lives_in,
                address=elsewhere_address(rng, lives_in),
                address_established_on=settled,
                previous_address=elsewhere_address(rng, honseki_in),
                honseki_in=honseki_in,
                honseki_address=elsewhere_honseki(rng, honseki_in),
                koseki_formed_on=formed,
            )
        )
    return people


class _KeepCodes(Writer):
    """The seed's writer, but the 住民票コード are the shared ones (checked against this database beforehand)."""

    def assign_codes(self, batch: Batch) -> None:
        return


def _plans(person: CrossPerson, ward: str, full_names: dict[str, str]) -> HouseholdPlan | KosekiPlan:
    p = Person(
        person.surname,
        person.given_name,
        person.surname_kana,
        person.given_name_kana,
        person.birth_date,
        person.sex,
        (person.surname, person.surname_kana),
        code=person.juminhyo_code,
    )
    koseki = KosekiPlan(p, person.koseki_formed_on, "分籍", placed=True, in_ward=person.honseki_in == ward)
    koseki.honseki_municipality = person.honseki_in
    koseki.honseki_address = person.honseki_address
    settled, formed = person.address_established_on, person.koseki_formed_on
    member = koseki.add(p, formed, "分籍")
    lines = [
        Line(
            person.honseki_in,
            person.previous_address,
            person.koseki_formed_on,
            "転入",
            recorded_on=person.koseki_formed_on,
        ),
        Line(person.lives_in, person.address, settled, "転入", recorded_on=settled),
    ]
    if koseki.in_ward:  # 本籍 here, living in the partner municipality: the 戸籍 and its 附票
        member.lines = lines
        return koseki
    resident = ResidentPlan(
        p,
        "世帯主",
        koseki,
        became_resident_on=settled,
        address_established_on=settled,
        entry_reason=ChangeReason.MOVE_IN,
        previous_municipality=person.honseki_in,
        previous_address=person.previous_address,
    )
    resident.events.append(
        Event(
            ChangeReason.MOVE_IN,
            settled,
            settled,
            full_names[person.honseki_in] + person.previous_address,
            full_names[ward] + with_katagaki(person.address, ""),
            "",
            p.name,
            uuid.UUID(int=random.Random(person.juminhyo_code).getrandbits(128), version=4),
        )
    )
    address = WardAddress(person.address, "", "", 0)
    return HouseholdPlan(address, settled, None, [resident])


def write_cross_ward(partner: str, count: int, seed: int = 0, *, using: str = "default") -> tuple[int, int]:
    """Write this ward's side of the shared persons: (residents written, 附票 persons written)."""
    ward = settings.WARD_LG_CODE
    if partner == ward:
        raise ValueError("the partner must be another municipality")
    full_names = {m.code: m.full_name for m in Municipality.objects.using(using).filter(code__in=(ward, partner))}
    missing = {ward, partner} - set(full_names)
    if missing:
        raise ValueError(f"地方公共団体コード {', '.join(sorted(missing))} が地方公共団体の表にありません。")
    people = cross_ward_people(ward, partner, count, seed)
    codes = [p.juminhyo_code for p in people]
    held = set(Resident.objects.using(using).filter(juminhyo_code__in=codes).values_list("juminhyo_code", flat=True))
    held |= set(FuhyoEntry.objects.using(using).filter(juminhyo_code__in=codes).values_list("juminhyo_code", flat=True))
    batch = Batch()
    for person in people:
        if person.juminhyo_code not in held:
            plan = _plans(person, ward, full_names)
            batch.plans.append(plan)
            batch.residents += isinstance(plan, HouseholdPlan)
    if not batch.plans:
        return 0, 0
    audit = context.current()
    writer = _KeepCodes(
        seed=seed,
        as_of=timezone.localdate(),
        source=audit.source if audit else SOURCE,
        request_id=audit.request_id if audit else uuid.uuid4().hex,
        now=timezone.now(),
        using=using,
        use_copy=False,
    )
    writer.write(batch)
    writer.finish()
    return batch.residents, len(batch.plans) - batch.residents
