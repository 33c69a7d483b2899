"""Families for dummy data: who lives together in a 世帯, who stands in which 戸籍, and the dates that tie them.

The generator works in plans (plain objects, no database): a `HouseholdPlan` is one 世帯 of the ward with its
members (`ResidentPlan`: one 住民票 each, with its 異動 history as `Event`s), and every person belongs to a
`KosekiPlan` (a 戸籍, with `KosekiMember`s, the rows of its 附票). Only the 戸籍 whose 本籍 is in the ward are written;
for the others the 住民票 carries the 本籍 and 筆頭者 as text. `writer.py` turns plans into rows.

The shapes follow the ward (domain.md, ward paper): most 世帯 are one person; about 45 % of the residents hold their
本籍 in the ward; many more people hold their 本籍 here and live elsewhere (or abroad) than live here, so that 附票
persons ≈ 1.25 × residents; some residents left (転出) or died, leaving a 除票.

Dates are consistent by construction: nobody is born after `as_of`; a spouse marries after turning 18; children
are born after the marriage and while the mother is 20-45; 住民となった年月日 and 住所を定めた年月日 are on or after
the birth; 届出年月日 is on or after the 異動年月日 and never after `as_of`; a 附票's address lines follow each other.
Everything random comes from one `random.Random`, consumed in a fixed order, so a seed gives the same ward.
"""

import random
import uuid
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

from registry.addresses import with_katagaki
from registry.choices import ChangeReason, Sex
from registry.relationships import HEAD

from . import names
from .addresses import (
    COUNTRIES,
    OtherMunicipalities,
    WardAddress,
    WardAddresses,
    elsewhere_address,
    elsewhere_honseki,
    pick,
    randint,
)

DAY = timedelta(days=1)
JUKI_NET_START = date(2002, 8, 5)  # 住民票コード were first issued then: who died earlier never had one

IN_WARD_SHARE = 0.45  # share of residents' 戸籍 with 本籍 in the ward (ward paper: 305,627 residents, ~45 % 管内本籍)
FUHYO_RATIO = 1.25  # 附票 persons per resident (ward paper: 383,395 / 305,627 ≈ 1.254)


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


# ---------------------------------------------------------------------------------------------------------------------
# Plans


@dataclass(slots=True, eq=False)
class Person:
    surname: str
    given_name: str
    surname_kana: str
    given_name_kana: str
    birth_date: date
    sex: str
    birth_surname: tuple[str, str] = ("", "")  # (氏, カナ) before marriage; the parents' 戸籍 uses it
    has_code: bool = True  # False for a person who died before 住基ネット and never had a 住民票コード
    code: str = ""  # 住民票コード, filled in by the writer (it checks uniqueness against the database)

    @property
    def name(self) -> str:
        return f"{self.surname}　{self.given_name}"


@dataclass(slots=True)
class Line:
    """One line of a 附票's address history."""

    municipality: str | None  # None when abroad
    address: str
    established_on: date
    reason: str
    country: str = ""
    recorded_on: date | None = None


@dataclass(slots=True, eq=False)
class KosekiMember:
    person: Person
    entered_on: date
    entered_reason: str
    removed_on: date | None = None
    removed_reason: str = ""
    resident: "ResidentPlan | None" = None
    home: "list[Line] | None" = None  # where a member who is not a resident of the ward lives (shared lines)
    lines: "list[Line] | None" = None  # this member's 附票 address lines, oldest first (set for 本籍 in the ward)


@dataclass(slots=True, eq=False)
class KosekiPlan:
    hittousha: Person
    formed_on: date
    formed_reason: str
    members: list[KosekiMember] = field(default_factory=list)
    placed: bool = False
    in_ward: bool = False
    honseki_municipality: str = ""
    honseki_address: str = ""
    closed_on: date | None = None
    closed_reason: str = ""
    adults: int = 1  # the first members: the 筆頭者 and the spouse; children follow

    def add(self, person: Person, entered_on: date, reason: str) -> KosekiMember:
        member = KosekiMember(person, entered_on, reason)
        self.members.append(member)
        return member

    def member(self, person: Person) -> KosekiMember:
        for member in self.members:
            if member.person is person:
                return member
        raise LookupError("person is not in this 戸籍")

    def current_count(self) -> int:
        return sum(1 for m in self.members if m.removed_on is None)


@dataclass(slots=True)
class Event:
    """One 異動 (ResidentChange). The writer adds the 世帯番号."""

    reason: str
    change_date: date
    notified_on: date | None
    previous_address: str
    new_address: str
    previous_head_name: str
    new_head_name: str
    group: uuid.UUID


@dataclass(slots=True, eq=False)
class ResidentPlan:
    person: Person
    relationship: str
    koseki: KosekiPlan
    became_resident_on: date | None = None
    address_established_on: date | None = None
    entry_reason: str = ChangeReason.MOVE_IN
    previous_municipality: str | None = None
    previous_address: str = ""
    events: list[Event] = field(default_factory=list)
    removed_on: date | None = None
    removal_reason: str = ""
    moved_to_municipality: str | None = None
    moved_to_address: str = ""
    lines: list[Line] = field(default_factory=list)  # this person's 附票 lines (only used for a 本籍 in the ward)


@dataclass(slots=True, eq=False)
class HouseholdPlan:
    address: WardAddress
    formed_on: date
    dissolved_on: date | None
    members: list[ResidentPlan]  # the 世帯主 first
    koseki: list[KosekiPlan] = field(default_factory=list)  # the members' 戸籍 with 本籍 in the ward

    def current_count(self) -> int:
        return sum(1 for m in self.members if m.removed_on is None)


# ---------------------------------------------------------------------------------------------------------------------
# The generator


class Weighted:
    """A fixed distribution over a few values. Draws like random.choices (one random() and a bisect, same result)
    without rebuilding the cumulative weights on every call."""

    def __init__(self, *pairs: tuple) -> None:
        self.values = [value for value, _ in pairs]
        self.cum = list(accumulate(weight for _, weight in pairs))
        self.total = self.cum[-1]

    def draw(self, rng: random.Random):
        return self.values[bisect(self.cum, rng.random() * self.total)]


# Age bands of people living alone (Shinjuku: young adults dominate, a long tail of elderly).
_SINGLE_AGES = Weighted(((18, 24), 0.17), ((25, 34), 0.36), ((35, 49), 0.21), ((50, 64), 0.11), ((65, 95), 0.15))
# Household kinds with their share of households (Shinjuku: ~64 % single-person households).
_KINDS = Weighted(
    ("single", 0.64),
    ("couple", 0.14),
    ("unmarried_couple", 0.015),
    ("family", 0.11),
    ("single_parent", 0.03),
    ("three_generations", 0.015),
    ("siblings", 0.01),
    ("roommates", 0.015),
)
_CHILDREN = Weighted((0, 0.25), (1, 0.3), (2, 0.35), (3, 0.1))
_SIBLINGS = Weighted((0, 0.3), (1, 0.5), (2, 0.2))
_HOME_LINES = Weighted((1, 0.45), (2, 0.35), (3, 0.2))
_SINGLE_YOUNG = Weighted(("parents", 0.8), ("bunseki", 0.2))
_SINGLE_MIDDLE = Weighted(("parents", 0.35), ("bunseki", 0.2), ("divorced", 0.25), ("apart", 0.2))
_SINGLE_OLD = Weighted(("widowed", 0.55), ("divorced", 0.2), ("parents", 0.15), ("apart", 0.1))
_ELSEWHERE = Weighted(("family", 0.55), ("single", 0.15), ("parents", 0.22), ("closed", 0.08))
DISSOLVED_SHARE = 0.025  # extra 世帯 whose only member moved away or died: 除票 only
REMOVED_WITHIN_YEARS = 10  # 除票 of the last ten years (older ones were purged under the 5-year rule before 2019)
LEFT_SHARE = 0.3  # of the family members who left or died after the 世帯 came here, this share left a 除票 here


class WardGenerator:
    """Draws households and 戸籍 of a fake ward. One instance per run; `rng` is the only source of randomness."""

    def __init__(
        self,
        rng: random.Random,
        *,
        as_of: date,
        ward_code: str,
        ward_full_name: str,
        municipalities: OtherMunicipalities,
    ) -> None:
        self.r = rng
        self.as_of = as_of
        self.ward_code = ward_code
        self.ward_full_name = ward_full_name
        self.munis = municipalities
        self.ward_addresses = WardAddresses()

    # --- small draws ---------------------------------------------------------------------------------------------

    def between(self, lo: date, hi: date) -> date:
        """A day in [lo, hi]; hi when the range is empty, so that an upper bound (usually `as_of`) always holds."""
        if hi <= lo:
            return hi
        return lo + timedelta(days=randint(self.r, 0, (hi - lo).days))

    def birth_for_age(self, lo: int, hi: int) -> date:
        """A birth date giving an age in [lo, hi] on `as_of`."""
        return self.between(add_years(self.as_of, -(hi + 1)) + DAY, add_years(self.as_of, -lo))

    def age(self, birth: date) -> int:
        years = self.as_of.year - birth.year
        return years - ((self.as_of.month, self.as_of.day) < (birth.month, birth.day))

    def notified(self, change: date, within: int = 14) -> date:
        """届出年月日: on or a few days after the 異動, never after as_of."""
        return min(change + timedelta(days=randint(self.r, 0, within)), self.as_of)

    def person(self, sex: str, birth: date, family: tuple[str, str] | None = None, avoid=frozenset()) -> Person:
        surname, surname_kana = family or names.surname(self.r)
        given, given_kana = names.given_name(self.r, sex, birth, avoid)
        return Person(surname, given, surname_kana, given_kana, birth, sex, (surname, surname_kana))

    def other_sex(self, sex: str) -> str:
        return Sex.FEMALE if sex == Sex.MALE else Sex.MALE

    # --- 戸籍 ------------------------------------------------------------------------------------------------------

    def couple(
        self, head: Person | None, head_sex: str, head_birth: date, *, max_children: int = 3
    ) -> tuple[KosekiPlan, Person, Person]:
        """A married couple's 戸籍 with their children: (戸籍, head, spouse). `head` is an existing person or a new one
        of head_sex born head_birth. Members: the 筆頭者, the spouse, then the children by age."""
        r = self.r
        if head is None:
            head = self.person(head_sex, head_birth)
        offset = int(r.triangular(-3 * 365, 8 * 365, 2 * 365))  # the wife is usually a little younger
        spouse_birth = head.birth_date + timedelta(days=offset if head.sex == Sex.MALE else -offset)
        spouse_birth = min(spouse_birth, add_years(self.as_of, -19))
        spouse = self.person(self.other_sex(head.sex), spouse_birth)
        younger = max(head.birth_date, spouse.birth_date)
        older = min(head.birth_date, spouse.birth_date)
        married = add_years(younger, randint(r, 22, 36)) + timedelta(days=randint(r, 0, 364))
        if married >= self.as_of:
            married = self.between(max(add_years(younger, 18), add_years(older, 18)), self.as_of - DAY)
        husband, wife = (head, spouse) if head.sex == Sex.MALE else (spouse, head)
        hittousha, other = (husband, wife) if r.random() < 0.94 else (wife, husband)
        koseki = self._marriage_koseki(hittousha, other, married)
        n = min(_CHILDREN.draw(r), max_children)
        born = married + timedelta(days=randint(r, 200, 1500))
        last = min(self.as_of, add_years(wife.birth_date, 45))
        taken: set[str] = set()
        for _ in range(n):
            if born > last:
                break
            self.add_child(koseki, born, taken)
            born += timedelta(days=randint(r, 400, 2200))
        return koseki, head, spouse

    def _marriage_koseki(self, hittousha: Person, other: Person, married: date) -> KosekiPlan:
        """The 戸籍 a marriage opens: the spouse takes the 筆頭者's 氏 (and keeps the old one as birth_surname)."""
        other.birth_surname = (other.surname, other.surname_kana)
        other.surname, other.surname_kana = hittousha.surname, hittousha.surname_kana
        if self.r.random() < 0.85:
            formed, reason = married, "婚姻"
        else:  # moved its 本籍 later: the 戸籍 was opened anew by 転籍
            formed, reason = self.between(married, self.as_of - DAY), "転籍"
        koseki = KosekiPlan(hittousha, formed, reason, adults=2)
        koseki.add(hittousha, formed, reason)
        koseki.add(other, formed, reason)
        return koseki

    def add_child(
        self, koseki: KosekiPlan, birth: date, taken: set[str], sex: str | None = None, child: Person | None = None
    ) -> Person:
        if child is None:
            sex = sex or (Sex.MALE if self.r.random() < 0.51 else Sex.FEMALE)
            family = (koseki.hittousha.surname, koseki.hittousha.surname_kana)
            child = self.person(sex, birth, family, avoid=taken)
        taken.add(child.given_name)
        if birth >= koseki.formed_on:
            koseki.add(child, max(self.notified(birth), koseki.formed_on), "出生")
        else:
            koseki.add(child, koseki.formed_on, koseki.formed_reason)
        return child

    def parents_of(
        self, sex: str, birth: date, *, siblings: int | None = None, child: Person | None = None
    ) -> tuple[KosekiPlan, Person]:
        """The 戸籍 of a child's parents with the child (a new one of `sex` born `birth`, or `child`) and maybe
        siblings in it: (戸籍, child)."""
        r = self.r
        family = child.birth_surname if child is not None else names.surname(r)
        mother_birth = add_years(birth, -randint(r, 22, 40)) - timedelta(days=randint(r, 0, 364))
        father_birth = mother_birth - timedelta(days=int(r.triangular(-3 * 365, 8 * 365, 2 * 365)))
        father_first = r.random() < 0.94
        father = self.person(Sex.MALE, father_birth, family if father_first else None)
        mother = self.person(Sex.FEMALE, mother_birth, None if father_first else family)
        married = self.between(add_years(mother_birth, 20), birth - timedelta(days=200))
        married = max(married, add_years(father_birth, 18))
        hittousha, other = (father, mother) if father_first else (mother, father)
        koseki = self._marriage_koseki(hittousha, other, married)
        if siblings is None:
            siblings = _SIBLINGS.draw(r)
        births = [birth]
        for _ in range(siblings):
            sibling = birth + timedelta(days=pick(r, (-1, 1)) * randint(r, 400, 2500))
            if married + timedelta(days=200) <= sibling <= min(self.as_of, add_years(mother_birth, 45)):
                births.append(sibling)
        births.sort()
        taken: set[str] = set()
        found = None
        for b in births:
            if b == birth and found is None:
                found = self.add_child(koseki, b, taken, sex, child)
            else:
                self.add_child(koseki, b, taken)
        return koseki, found

    def own_koseki(self, person: Person, formed_on: date, reason: str) -> KosekiPlan:
        koseki = KosekiPlan(person, formed_on, reason)
        koseki.add(person, formed_on, reason)
        return koseki

    def age_the_family(self, koseki: KosekiPlan, keep: tuple[Person, ...] = ()) -> None:
        """Let time pass over a 戸籍: grown children marry out, old members die. `keep` stay as they are."""
        r = self.r
        for member in koseki.members[koseki.adults :]:
            person = member.person
            if person in keep or member.removed_on:
                continue
            age = self.age(person.birth_date)
            if age >= 24 and r.random() < min(0.8, (age - 23) * 0.06):
                married = self.between(add_years(person.birth_date, 24), self.as_of - DAY)
                member.removed_on, member.removed_reason = max(married, member.entered_on), "婚姻"
        for member in koseki.members[: koseki.adults]:
            person = member.person
            if person in keep or member.removed_on:
                continue
            age = self.age(person.birth_date)
            if age >= 70 and r.random() < min(0.9, (age - 65) * 0.03):
                self.die(member, lo=add_years(person.birth_date, 60))

    def close_if_empty(self, koseki: KosekiPlan) -> None:
        """A 戸籍 whose members have all left is 除籍."""
        if koseki.closed_on is None and koseki.current_count() == 0:
            koseki.closed_on = max(m.removed_on for m in koseki.members)
            koseki.closed_reason = koseki.closed_reason or "全員除籍"

    def die(self, member: KosekiMember, lo: date) -> None:
        death = self.between(max(lo, member.entered_on), self.as_of - DAY)
        member.removed_on = death
        member.removed_reason = "死亡"
        if death < JUKI_NET_START:
            member.person.has_code = False

    # --- where people live ----------------------------------------------------------------------------------------

    def home(self, since: date, abroad_share: float = 0.03) -> list[Line]:
        """Address lines of a home elsewhere, oldest first, the last one current."""
        r = self.r
        count = _HOME_LINES.draw(r)
        lo = max(since, date(1950, 1, 1))
        days = sorted(self.between(lo, self.as_of - DAY) for _ in range(count))
        lines = []
        municipality = self.munis.draw(r)
        for i, day in enumerate(days):
            if i and r.random() < 0.6:
                municipality, reason = self.munis.draw(r), "転入"
            else:
                reason = "転居" if i else "転入"
            lines.append(Line(municipality, elsewhere_address(r, municipality), day, reason))
        if r.random() < abroad_share:
            lines.append(Line(None, "", self.between(days[-1], self.as_of - DAY), "国外転出", pick(r, COUNTRIES)))
        return lines

    def clip(self, lines: list[Line], member: KosekiMember) -> list[Line]:
        """The lines a member's 附票 shows: from the address held when entering the 戸籍 (moved to the birth date
        when older than the person), up to the removal for a removed member; recorded dates filled in."""
        birth = member.person.birth_date
        entered = member.entered_on
        until = member.removed_on
        if until is not None:
            kept = [line for line in lines if line.established_on <= until]
            lines = kept or lines[:1]
        start = 0
        for i, line in enumerate(lines):
            if line.established_on <= entered:
                start = i
        out = []
        for i, line in enumerate(lines[start:]):
            established = line.established_on
            reason = line.reason
            if established < birth:
                established, reason = birth, "出生"
            if until is not None and established > until:
                established = until
            recorded = established + timedelta(days=randint(self.r, 0, 20))
            if i == 0:
                recorded = max(recorded, entered)
            recorded = min(recorded, self.as_of)
            out.append(Line(line.municipality, line.address, established, reason, line.country, recorded))
        return out

    def place(self, koseki: KosekiPlan, near: WardAddress | None = None, in_ward: bool | None = None) -> None:
        """Decide where the 本籍 of a 戸籍 is (once per 戸籍)."""
        if koseki.placed:
            return
        koseki.placed = True
        koseki.in_ward = self.r.random() < IN_WARD_SHARE if in_ward is None else in_ward
        if koseki.in_ward:
            koseki.honseki_municipality = self.ward_code
            koseki.honseki_address = self.ward_addresses.honseki(self.r, near)
        else:
            koseki.honseki_municipality = self.munis.draw(self.r)
            koseki.honseki_address = elsewhere_honseki(self.r, koseki.honseki_municipality)

    def settle_members(self, koseki: KosekiPlan, abroad_share: float = 0.03) -> None:
        """Give every member of a 戸籍 in the ward who is not a resident a home elsewhere (the spouses and young
        children together, grown or removed children on their own), then draw each member's 附票 lines."""
        family_home = None
        for i, member in enumerate(koseki.members):
            if member.resident is not None or member.home is not None:
                continue
            person = member.person
            if member.removed_on is not None or (i >= koseki.adults and self.age(person.birth_date) >= 22):
                member.home = self.home(add_years(person.birth_date, 18), abroad_share)
            else:
                if family_home is None:
                    family_home = self.home(koseki.formed_on, abroad_share)
                member.home = family_home
        for member in koseki.members:
            member.lines = self.lines_of(member)

    def lines_of(self, member: KosekiMember) -> list[Line]:
        """The address lines of one member's 附票 row."""
        if member.resident is not None:
            return self.clip(member.resident.lines, member)
        return self.clip(member.home, member)

    # --- households -----------------------------------------------------------------------------------------------

    def household(self, max_residents: int) -> HouseholdPlan:
        """One 世帯 with at least one and at most `max_residents` current members."""
        kind = _KINDS.draw(self.r) if max_residents > 1 else "single"
        plan = getattr(self, f"_{kind}")()
        self._trim(plan, max_residents)
        self._finish(plan)
        return plan

    def dissolved_household(self) -> HouseholdPlan | None:
        """Now and then a 世帯 whose only member moved away or died: a 除票 and a dissolved 世帯."""
        if self.r.random() >= DISSOLVED_SHARE:
            return None
        plan = self._single()
        head = plan.members[0]
        lo = max(head.address_established_on + DAY, add_years(self.as_of, -REMOVED_WITHIN_YEARS))
        leave = min(self.between(lo, self.as_of - DAY), self.as_of)
        if self.age(head.person.birth_date) >= 70 and self.r.random() < 0.6:
            self._remove(head, leave, ChangeReason.DEATH)
        else:
            self._remove(head, leave, ChangeReason.MOVE_OUT)
        for member in plan.members[1:]:
            if member.removed_on is None:  # cannot happen for a single, kept for safety
                self._remove(member, leave, ChangeReason.MOVE_OUT)
        plan.dissolved_on = max(m.removed_on for m in plan.members)
        self._finish(plan)
        return plan

    def _single_koseki(self, sex: str, birth: date) -> tuple[KosekiPlan, Person]:
        """The 戸籍 of someone who lives without a spouse: the parents', an own one (分籍, after a divorce), or the
        marriage's (widowed, divorced 筆頭者, living apart from the family)."""
        r = self.r
        age = self.age(birth)
        if age < 35:
            kind = _SINGLE_YOUNG.draw(r)
        elif age < 65:
            kind = _SINGLE_MIDDLE.draw(r)
        else:
            kind = _SINGLE_OLD.draw(r)
        if kind == "parents":
            koseki, person = self.parents_of(sex, birth)
            self.age_the_family(koseki, keep=(person,))
            return koseki, person
        if kind == "bunseki":
            person = self.person(sex, birth)
            return self.own_koseki(person, self.between(add_years(birth, 18), self.as_of - DAY), "分籍"), person
        koseki, person, spouse = self.couple(None, sex, birth)
        self.age_the_family(koseki, keep=(person,))
        spouse_member = koseki.member(spouse)
        if kind == "widowed":
            if spouse_member.removed_on is None:
                self.die(spouse_member, lo=add_years(spouse.birth_date, 50))
        elif kind == "divorced":
            divorced = self.between(koseki.formed_on + timedelta(days=365), self.as_of - DAY)
            if koseki.hittousha is person:
                spouse_member.removed_on, spouse_member.removed_reason = max(divorced, koseki.formed_on), "離婚"
            else:  # the one who leaves the 戸籍 on divorce takes back the old 氏 and opens a new 戸籍
                person.surname, person.surname_kana = person.birth_surname
                return self.own_koseki(person, self.notified(divorced), "離婚"), person
        return koseki, person

    def _new_household(self, moved_in: date) -> tuple[HouseholdPlan, date]:
        """An empty 世帯 at a fresh address, formed when its 世帯主 came to the ward; returns it with the day its
        members settled at the current address (later than `moved_in` after a 転居 within the ward)."""
        r = self.r
        address = self.ward_addresses.draw(r)
        settled = moved_in if r.random() < 0.7 else self.between(moved_in, self.as_of - DAY)
        return HouseholdPlan(address, moved_in, None, []), settled

    def _moved_in(self, head_birth: date, earliest: date | None = None) -> date:
        """The day the 世帯主 came to the ward: recent for most (a mean of seven years back), born here for a few."""
        r = self.r
        if earliest is None and r.random() < 0.05:
            return head_birth  # born in the ward
        lo = max(add_years(head_birth, 18), earliest or date.min)
        back = int(r.expovariate(1 / (7 * 365)))
        return min(max(lo, self.as_of - timedelta(days=back)), self.as_of - DAY)

    def _single(self) -> HouseholdPlan:
        r = self.r
        lo, hi = _SINGLE_AGES.draw(r)
        sex = Sex.MALE if r.random() < 0.53 else Sex.FEMALE
        birth = self.birth_for_age(lo, hi)
        koseki, person = self._single_koseki(sex, birth)
        plan, settled = self._new_household(self._moved_in(birth))
        self._join(plan, person, HEAD, koseki, plan.formed_on, settled)
        self._maybe_left(plan, koseki, settled)
        return plan

    def _couple(self) -> HouseholdPlan:
        r = self.r
        age = pick(r, (randint(r, 25, 45), randint(r, 46, 64), randint(r, 65, 90)))
        sex = Sex.MALE if r.random() < 0.85 else Sex.FEMALE
        koseki, head, spouse = self.couple(None, sex, self.birth_for_age(age, age))
        self.age_the_family(koseki, keep=(head, spouse))
        plan, settled = self._new_household(self._moved_in(head.birth_date))
        self._join(plan, head, HEAD, koseki, plan.formed_on, settled)
        self._join(plan, spouse, self._spouse_word(spouse), koseki, koseki.formed_on, settled)
        self._maybe_left(plan, koseki, settled)
        return plan

    def _unmarried_couple(self) -> HouseholdPlan:
        r = self.r
        sex = Sex.MALE if r.random() < 0.7 else Sex.FEMALE
        head_birth = self.birth_for_age(22, 45)
        partner_birth = min(head_birth + timedelta(days=randint(r, -2500, 2500)), add_years(self.as_of, -20))
        head_koseki, head = self._single_koseki(sex, head_birth)
        partner_koseki, partner = self._single_koseki(self.other_sex(sex), partner_birth)
        plan, settled = self._new_household(self._moved_in(head_birth))
        self._join(plan, head, HEAD, head_koseki, plan.formed_on, settled)
        word = "妻（未届）" if partner.sex == Sex.FEMALE else "夫（未届）"
        self._join(plan, partner, word, partner_koseki, self.between(plan.formed_on, self.as_of), settled)
        return plan

    def _family(self) -> HouseholdPlan:
        r = self.r
        sex = Sex.MALE if r.random() < 0.9 else Sex.FEMALE
        koseki, head, spouse = self.couple(None, sex, self.birth_for_age(28, 60))
        self.age_the_family(koseki, keep=(head, spouse))
        plan, settled = self._new_household(self._moved_in(head.birth_date, earliest=koseki.formed_on))
        self._join(plan, head, HEAD, koseki, plan.formed_on, settled)
        self._join(plan, spouse, self._spouse_word(spouse), koseki, koseki.formed_on, settled)
        for member in koseki.members[koseki.adults :]:
            if member.removed_on is None and (self.age(member.person.birth_date) < 23 or r.random() < 0.5):
                self._join(plan, member.person, "子", koseki, member.person.birth_date, settled)
        self._maybe_left(plan, koseki, settled)
        return plan

    def _single_parent(self) -> HouseholdPlan:
        r = self.r
        if r.random() < 0.7:  # a mother with her children, in the 戸籍 she opened on divorce
            mother_birth = self.birth_for_age(27, 55)
            mother = self.person(Sex.FEMALE, mother_birth)
            first = self.between(add_years(mother_birth, 21), min(self.as_of - DAY, add_years(mother_birth, 42)))
            divorced = self.between(first, self.as_of - DAY)
            koseki = self.own_koseki(mother, self.notified(divorced), "離婚")
            births = [first]
            second_by = min(self.as_of, add_years(mother_birth, 44))
            if r.random() < 0.5 and first + timedelta(days=500) < second_by:
                births.append(self.between(first + timedelta(days=500), second_by))
            plan, settled = self._new_household(self._moved_in(mother_birth, earliest=first))
            self._join(plan, mother, HEAD, koseki, plan.formed_on, settled)
            taken: set[str] = set()
            for birth in births:
                sex = Sex.MALE if r.random() < 0.5 else Sex.FEMALE
                child = self.person(sex, birth, (mother.surname, mother.surname_kana), avoid=taken)
                taken.add(child.given_name)
                entered = max(koseki.formed_on, self.notified(birth)) + timedelta(days=randint(r, 0, 90))
                koseki.add(child, min(entered, self.as_of), "入籍")
                self._join(plan, child, "子", koseki, birth, settled)
            return plan
        # a father with his children, in the marriage's 戸籍 his wife left (divorce) or died out of
        koseki, father, wife = self.couple(None, Sex.MALE, self.birth_for_age(30, 60))
        wife_member = koseki.member(wife)
        if koseki.hittousha is father:
            left = self.between(koseki.formed_on + timedelta(days=365), self.as_of - DAY)
            wife_member.removed_on, wife_member.removed_reason = left, pick(r, ("離婚", "死亡"))
            if wife_member.removed_reason == "死亡" and left < JUKI_NET_START:
                wife.has_code = False
        self.age_the_family(koseki, keep=(father,))
        plan, settled = self._new_household(self._moved_in(father.birth_date, earliest=koseki.formed_on))
        self._join(plan, father, HEAD, koseki, plan.formed_on, settled)
        for member in koseki.members[koseki.adults :]:
            if member.removed_on is None and self.age(member.person.birth_date) < 25:
                self._join(plan, member.person, "子", koseki, member.person.birth_date, settled)
        return plan

    def _three_generations(self) -> HouseholdPlan:
        r = self.r
        if r.random() < 0.5:  # a family living with a parent of the 世帯主 (or of the wife)
            koseki, head, wife = self.couple(None, Sex.MALE, self.birth_for_age(35, 55))
            self.age_the_family(koseki, keep=(head, wife))
            plan, settled = self._new_household(self._moved_in(head.birth_date, earliest=koseki.formed_on))
            self._join(plan, head, HEAD, koseki, plan.formed_on, settled)
            self._join(plan, wife, "妻", koseki, koseki.formed_on, settled)
            for member in koseki.members[koseki.adults :]:
                if member.removed_on is None and self.age(member.person.birth_date) < 25:
                    self._join(plan, member.person, "子", koseki, member.person.birth_date, settled)
            of_wife = r.random() < 0.3
            child = wife if of_wife else head
            parents, _ = self.parents_of(child.sex, child.birth_date, siblings=pick(r, (0, 1)), child=child)
            member = parents.member(child)  # both spouses left their parents' 戸籍 on marriage
            member.removed_on, member.removed_reason = max(koseki.formed_on, member.entered_on), "婚姻"
            father = next(m for m in parents.members[:2] if m.person.sex == Sex.MALE)
            mother = next(m for m in parents.members[:2] if m.person.sex == Sex.FEMALE)
            if r.random() < 0.5:
                self.die(father, lo=add_years(father.person.birth_date, 60))
            self.age_the_family(parents, keep=(child, father.person, mother.person))
            joined = self.between(plan.formed_on, self.as_of - DAY)
            prefix = "妻の" if of_wife else ""
            self._join(plan, mother.person, prefix + "母", parents, joined, settled)
            if father.removed_on is None:
                self._join(plan, father.person, prefix + "父", parents, joined, settled)
            return plan
        # an older couple, their married son, his wife and their children
        son_birth = self.birth_for_age(28, 45)
        elders, son = self.parents_of(Sex.MALE, son_birth, siblings=pick(r, (0, 1)))
        head = next(m.person for m in elders.members[:2] if m.person.sex == Sex.MALE)
        wife = next(m.person for m in elders.members[:2] if m.person.sex == Sex.FEMALE)
        son_koseki, _, daughter_in_law = self.couple(son, Sex.MALE, son_birth)
        son_member = elders.member(son)
        son_member.removed_on, son_member.removed_reason = max(son_koseki.formed_on, son_member.entered_on), "婚姻"
        self.age_the_family(elders, keep=(head, wife, son))
        plan, settled = self._new_household(self._moved_in(head.birth_date))
        self._join(plan, head, HEAD, elders, plan.formed_on, settled)
        self._join(plan, wife, "妻", elders, elders.formed_on, settled)
        self._join(plan, son, "子", son_koseki, son.birth_date, settled)
        self._join(plan, daughter_in_law, "子の妻", son_koseki, son_koseki.formed_on, settled)
        for member in son_koseki.members[son_koseki.adults :]:
            self._join(plan, member.person, "子の子", son_koseki, member.person.birth_date, settled)
        return plan

    def _siblings(self) -> HouseholdPlan:
        r = self.r
        sex = Sex.MALE if r.random() < 0.5 else Sex.FEMALE
        birth = self.birth_for_age(20, 35)
        koseki, head = self.parents_of(sex, birth, siblings=2)
        self.age_the_family(koseki, keep=(head,))
        plan, settled = self._new_household(self._moved_in(birth))
        self._join(plan, head, HEAD, koseki, plan.formed_on, settled)
        for member in koseki.members[koseki.adults :]:
            other = member.person
            if other is head or member.removed_on or self.age(other.birth_date) < 18:
                continue
            older = other.birth_date < head.birth_date
            word = ("兄" if older else "弟") if other.sex == Sex.MALE else ("姉" if older else "妹")
            self._join(plan, other, word, koseki, self.between(plan.formed_on, self.as_of), settled)
            break
        return plan

    def _roommates(self) -> HouseholdPlan:
        r = self.r
        sex = Sex.MALE if r.random() < 0.5 else Sex.FEMALE
        head_koseki, head = self._single_koseki(sex, self.birth_for_age(20, 35))
        mate_koseki, mate = self._single_koseki(sex, self.birth_for_age(20, 35))
        plan, settled = self._new_household(self._moved_in(head.birth_date))
        self._join(plan, head, HEAD, head_koseki, plan.formed_on, settled)
        self._join(plan, mate, "同居人", mate_koseki, self.between(plan.formed_on, self.as_of), settled)
        return plan

    @staticmethod
    def _spouse_word(person: Person) -> str:
        return "妻" if person.sex == Sex.FEMALE else "夫"

    # --- members ---------------------------------------------------------------------------------------------------

    def _join(
        self, plan: HouseholdPlan, person: Person, relationship: str, koseki: KosekiPlan, joins: date, settled: date
    ) -> ResidentPlan:
        """Make `person` a member of the 世帯, arriving on max(世帯's arrival, joins) and at the current address by
        `settled` (a 転居 within the ward when they arrived earlier)."""
        arrived = min(max(plan.formed_on, joins, person.birth_date), self.as_of)
        resident = ResidentPlan(person, relationship, koseki)
        resident.became_resident_on = arrived
        resident.address_established_on = max(arrived, settled)
        if arrived == person.birth_date and arrived >= plan.formed_on:
            resident.entry_reason = ChangeReason.BIRTH
        elif self.r.random() < 0.04:
            resident.entry_reason = ChangeReason.MOVE_IN_FROM_ABROAD
        else:
            resident.entry_reason = ChangeReason.MOVE_IN
        plan.members.append(resident)
        for member in koseki.members:
            if member.person is person:
                member.resident = resident
        return resident

    def _maybe_left(self, plan: HouseholdPlan, koseki: KosekiPlan, settled: date) -> None:
        """Members of the 世帯主's 戸籍 who married out or died recently, after the 世帯 settled here, may have lived
        in it: their 住民票 is now a 除票 (転出 on marriage, 死亡)."""
        head = plan.members[0].person
        if head not in (m.person for m in koseki.members[: koseki.adults]):
            return
        present = {m.person for m in plan.members}
        recent = add_years(self.as_of, -REMOVED_WITHIN_YEARS)
        for i, member in enumerate(koseki.members):
            day = member.removed_on
            if member.person in present or day is None or day <= max(settled, recent):
                continue
            if member.removed_reason not in ("婚姻", "死亡") or self.r.random() >= LEFT_SHARE:
                continue
            word = self._spouse_word(member.person) if i < koseki.adults else "子"
            resident = self._join(plan, member.person, word, koseki, member.person.birth_date, settled)
            if resident.address_established_on >= day:
                plan.members.remove(resident)
                member.resident = None
                continue
            died = member.removed_reason == "死亡"
            self._remove(resident, day, ChangeReason.DEATH if died else ChangeReason.MOVE_OUT)

    def _remove(self, resident: ResidentPlan, on: date, reason: str) -> None:
        """The 住民票 becomes a 除票 (転出 or 死亡); a death removes the person from the 戸籍 too."""
        resident.removed_on = max(on, resident.address_established_on)
        resident.removal_reason = reason
        if reason == ChangeReason.MOVE_OUT:
            resident.moved_to_municipality = self.munis.draw(self.r)
            resident.moved_to_address = elsewhere_address(self.r, resident.moved_to_municipality)
        else:
            for member in resident.koseki.members:
                if member.person is resident.person and member.removed_on is None:
                    member.removed_on, member.removed_reason = max(resident.removed_on, member.entered_on), "死亡"

    def _trim(self, plan: HouseholdPlan, max_residents: int) -> None:
        """Keep at most `max_residents` current members (the last 世帯 of a run); the others live elsewhere."""
        while plan.current_count() > max_residents:
            resident = next(m for m in reversed(plan.members) if m.removed_on is None and m.relationship != HEAD)
            plan.members.remove(resident)
            for member in resident.koseki.members:
                if member.resident is resident:
                    member.resident = None

    # --- finishing: dates become events, 本籍 is placed, 附票 lines are drawn --------------------------------------

    def _finish(self, plan: HouseholdPlan) -> None:
        r = self.r
        address = plan.address
        head = plan.members[0]
        head_name = head.person.name
        ward = self.ward_full_name
        current_full = ward + with_katagaki(address.address, address.katagaki)
        moved = any(m.became_resident_on < m.address_established_on for m in plan.members)
        old = self.ward_addresses.draw(r) if moved else None
        old_full = ward + with_katagaki(old.address, old.katagaki) if old else ""
        groups: dict[tuple[str, date], uuid.UUID] = {}

        def group(reason: str, day: date) -> uuid.UUID:
            key = (reason, day)
            if key not in groups:
                groups[key] = uuid.UUID(int=r.getrandbits(128), version=4)
            return groups[key]

        for resident in plan.members:
            person = resident.person
            arrived = resident.became_resident_on
            moved_within = arrived < resident.address_established_on
            here_full = old_full if moved_within else current_full
            here = old if moved_within else address
            lines: list[Line] = []
            reason = resident.entry_reason
            if reason == ChangeReason.BIRTH:
                previous_full = ""
            elif reason == ChangeReason.MOVE_IN_FROM_ABROAD:
                country = pick(r, COUNTRIES)
                resident.previous_address = country
                previous_full = country
                if arrived > person.birth_date:
                    left = self.between(max(person.birth_date, arrived - timedelta(days=3000)), arrived - DAY)
                    lines.append(Line(None, "", left, "国外転出", country))
            else:
                muni = self.munis.draw(r)
                resident.previous_municipality = muni
                resident.previous_address = elsewhere_address(r, muni)
                previous_full = self.munis.full_names[muni] + resident.previous_address
                if arrived > person.birth_date:
                    since = self.between(max(person.birth_date, arrived - timedelta(days=3000)), arrived - DAY)
                    lines.append(Line(muni, resident.previous_address, since, "転入"))
            resident.events.append(
                Event(
                    reason,
                    arrived,
                    self.notified(arrived),
                    previous_full,
                    here_full,
                    "",
                    head_name,
                    group(reason, arrived),
                )
            )
            lines.append(
                Line(
                    self.ward_code,
                    with_katagaki(here.address, here.katagaki),
                    arrived,
                    "出生" if reason == ChangeReason.BIRTH else "転入",
                )
            )
            if moved_within:
                resident.previous_municipality = self.ward_code
                resident.previous_address = with_katagaki(old.address, old.katagaki)
                day = resident.address_established_on
                resident.events.append(
                    Event(
                        ChangeReason.MOVE_WITHIN,
                        day,
                        self.notified(day),
                        old_full,
                        current_full,
                        head_name,
                        head_name,
                        group(ChangeReason.MOVE_WITHIN, day),
                    )
                )
                lines.append(Line(self.ward_code, with_katagaki(address.address, address.katagaki), day, "転居"))
            if resident.removed_on is not None:
                day = resident.removed_on
                if resident.removal_reason == ChangeReason.MOVE_OUT:
                    muni = resident.moved_to_municipality
                    new_full = self.munis.full_names[muni] + resident.moved_to_address
                    lines.append(Line(muni, resident.moved_to_address, day, "転入"))
                else:
                    new_full = ""
                resident.events.append(
                    Event(
                        resident.removal_reason,
                        day,
                        self.notified(day, 7),
                        current_full,
                        new_full,
                        head_name,
                        "" if resident is head else head_name,
                        group(resident.removal_reason, day),
                    )
                )
            resident.lines = lines
            self.place(resident.koseki, near=address)
        for koseki in dict.fromkeys(m.koseki for m in plan.members):
            if koseki.in_ward:
                self.close_if_empty(koseki)
                self.settle_members(koseki)
                plan.koseki.append(koseki)

    # --- 戸籍 of people who live elsewhere ---------------------------------------------------------------------------

    def koseki_elsewhere(self) -> KosekiPlan:
        """A 戸籍 with 本籍 in the ward none of whose members lives here (some abroad, a few 除籍)."""
        r = self.r
        kind = _ELSEWHERE.draw(r)
        abroad = 0.25 if r.random() < 0.06 else 0.02  # a few families live abroad (国外転出者)
        if kind == "family":
            koseki, _, _ = self.couple(None, Sex.MALE, self.birth_for_age(25, 90))
            self.age_the_family(koseki)
        elif kind == "single":
            person = self.person(Sex.MALE if r.random() < 0.5 else Sex.FEMALE, self.birth_for_age(20, 90))
            formed = self.between(add_years(person.birth_date, 20), self.as_of - DAY)
            koseki = self.own_koseki(person, formed, pick(r, ("分籍", "分籍", "離婚", "転籍")))
        elif kind == "parents":
            sex = Sex.MALE if r.random() < 0.5 else Sex.FEMALE
            koseki, _ = self.parents_of(sex, self.birth_for_age(0, 40))
            self.age_the_family(koseki)
        else:
            koseki, _, _ = self.couple(None, Sex.MALE, self.birth_for_age(70, 105))
            self.age_the_family(koseki)
            if r.random() < 0.5:  # moved its 本籍 away: everyone still in it leaves on the same day
                closed = self.between(koseki.formed_on + DAY, self.as_of - DAY)
                for member in koseki.members:
                    if member.removed_on is None or member.removed_on > closed:
                        member.removed_on, member.removed_reason = max(closed, member.entered_on), "転籍"
                        member.person.has_code = True
                koseki.closed_reason = "転籍"
            else:
                for member in koseki.members:
                    if member.removed_on is None:
                        self.die(member, lo=add_years(member.person.birth_date, 40))
            self.close_if_empty(koseki)
        self.close_if_empty(koseki)
        self.place(koseki, in_ward=True)
        self.settle_members(koseki, abroad)
        return koseki
