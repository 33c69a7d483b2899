"""Restricted fixture persons, one per register, with strings no other fixture uses, so that a page scan for them
can neither miss nor false-positive:

- 鬼頭院　薫子 (キトウイン　カオルコ, 1977-07-29): a resident with 住民票 and 附票 (筆頭者 of a 戸籍 of the ward) at
  神楽坂九丁目97番43号, 世帯主 of a 世帯 whose other member (久我　一葉, unrestricted) is not restricted;
- 鷲ノ宮　澪 (ワシノミヤ　ミオ, 1988-03-17): a restricted 世帯員 (同居人) in an unrestricted 世帯 at 戸山八丁目86番21号;
- 檜垣　蒼一朗 (ヒガキ　ソウイチロウ, 1969-10-23): a koseki member living elsewhere (附票 row only, address in 渋谷区
  宇田川町75番11号), in the same 戸籍 as 鬼頭院.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from audit import restrictions
from common.juminhyo_codes import juminhyo_code_for
from common.testing.actors import as_system
from common.wareki import to_wareki
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry
from koseki_fuhyo.tests.factories import FuhyoEntryFactory, KosekiFactory, link_to_koseki
from registry.models import Resident
from registry.tests.factories import HouseholdFactory, ResidentFactory, elsewhere


@dataclass
class Person:
    surname: str
    given_name: str
    surname_kana: str
    given_name_kana: str
    birth_date: dt.date
    juminhyo_code: str
    addresses: list[str] = field(default_factory=list)
    # The address of a 世帯 is also that of its unrestricted members (their own data, shown on their pages): what
    # must not appear there is the restricted person beside it. Scanned only where `shared=True` is asked for.
    shared_addresses: list[str] = field(default_factory=list)
    resident: Resident | None = None
    entry: FuhyoEntry | None = None

    def strings(self, *, shared: bool = False) -> dict[str, str]:
        """What must appear on no page for a user without a grant: name and カナ (both parts and whole), 生年月日 in
        西暦 and 和暦, 住民票コード, addresses."""
        birth = self.birth_date
        found = {
            "氏": self.surname,
            "名": self.given_name,
            "氏（カナ）": self.surname_kana,
            "名（カナ）": self.given_name_kana,
            "生年月日（西暦）": birth.isoformat(),
            "生年月日（西暦・スラッシュ）": f"{birth:%Y/%m/%d}",
            "生年月日（和暦）": to_wareki(birth),
            "住民票コード": self.juminhyo_code,
        }
        for i, address in enumerate(self.addresses + (self.shared_addresses if shared else [])):
            found[f"住所{i}"] = address
        return found


KITOUIN = {
    "surname": "鬼頭院", "given_name": "薫子", "surname_kana": "キトウイン", "given_name_kana": "カオルコ",
    "birth_date": dt.date(1977, 7, 29), "sex": "2",
}  # fmt: skip
WASHINOMIYA = {
    "surname": "鷲ノ宮", "given_name": "澪", "surname_kana": "ワシノミヤ", "given_name_kana": "ミオ",
    "birth_date": dt.date(1988, 3, 17), "sex": "2",
}  # fmt: skip
HIGAKI = {
    "surname": "檜垣", "given_name": "蒼一朗", "surname_kana": "ヒガキ", "given_name_kana": "ソウイチロウ",
    "birth_date": dt.date(1969, 10, 23), "sex": "1",
}  # fmt: skip


def _person(values: dict, code: str, addresses: list[str], **records) -> Person:
    keys = ("surname", "given_name", "surname_kana", "given_name_kana", "birth_date")
    return Person(**{k: values[k] for k in keys}, juminhyo_code=code, addresses=addresses, **records)


def supervisor_user():
    user_model = get_user_model()
    return user_model.objects.filter(username="restrictor").first() or user_model.objects.create_user(
        username="restrictor", password="pass-for-tests-only"
    )


def make_restricted_persons() -> dict[str, Person]:
    """The three restricted persons (and the unrestricted people around them); every restriction is active."""
    actor = supervisor_user()
    home = HouseholdFactory(address="神楽坂九丁目97番43号")
    kitouin = ResidentFactory(household=home, juminhyo_code=juminhyo_code_for(97_001), **KITOUIN)
    partner = ResidentFactory(
        household=home,
        relationship="同居人",
        surname="久我",
        given_name="一葉",
        surname_kana="クガ",
        given_name_kana="カズハ",
        birth_date=dt.date(1990, 1, 2),
        juminhyo_code=juminhyo_code_for(97_002),
    )
    koseki = KosekiFactory(hittousha_surname="鬼頭院", hittousha_given_name="薫子", honseki_address="北新宿九丁目9番")
    kitouin_entry = link_to_koseki(kitouin, koseki)

    other_home = HouseholdFactory(address="戸山八丁目86番21号")
    ResidentFactory(
        household=other_home,
        surname="真壁",
        given_name="晴",
        surname_kana="マカベ",
        given_name_kana="ハル",
        birth_date=dt.date(1960, 6, 6),
        juminhyo_code=juminhyo_code_for(97_003),
    )
    washinomiya = ResidentFactory(
        household=other_home, relationship="同居人", juminhyo_code=juminhyo_code_for(97_004), **WASHINOMIYA
    )

    higaki_entry = FuhyoEntryFactory(koseki=koseki, position=2, juminhyo_code=juminhyo_code_for(97_005), **HIGAKI)
    FuhyoAddress.objects.create(
        entry=higaki_entry,
        municipality=elsewhere("131130"),
        address="宇田川町75番11号",
        established_on=dt.date(2015, 4, 1),
        recorded_on=dt.date(2015, 4, 10),
        reason="転入",
        is_current=True,
    )
    for record in ({"resident": kitouin}, {"resident": washinomiya}, {"fuhyo_entry": higaki_entry}):
        restrictions.restrict(
            actor=actor, kind="dv_support", reason="支援措置", starts_on=dt.date(2026, 11, 1), **record
        )
    for record in (kitouin, partner, washinomiya, kitouin_entry, higaki_entry):
        record.refresh_from_db()
    return {
        "kitouin": _person(
            KITOUIN,
            kitouin.juminhyo_code,
            [],
            resident=kitouin,
            entry=kitouin_entry,
            shared_addresses=["神楽坂九丁目97番43号", "97番43号"],
        ),
        "washinomiya": _person(
            WASHINOMIYA, washinomiya.juminhyo_code, [], resident=washinomiya, shared_addresses=["戸山八丁目86番21号"]
        ),
        "higaki": _person(HIGAKI, higaki_entry.juminhyo_code, ["宇田川町75番11号"], entry=higaki_entry),
    }


@as_system()  # recorded as the system (no user), as by an inbound notice
def move_into_restricted_household(head):
    """宮園　朔, unrestricted, moves into the restricted 世帯主's 世帯 (a 転入 from 渋谷区): their 異動履歴 names the
    世帯主 and their 住民票 the 筆頭者 — the places where another person's page could name the restricted one."""
    from registry.services import entries

    return entries.move_in(
        [
            entries.PersonData(
                surname="宮園",
                given_name="朔",
                surname_kana="ミヤゾノ",
                given_name_kana="サク",
                birth_date=dt.date(2001, 4, 4),
                sex="1",
                relationship="同居人",
                honseki_municipality="131041",
                honseki_address="北新宿九丁目9番",
                hittousha_name="鬼頭院　薫子",
            )
        ],
        change_date=dt.date(2026, 11, 20),
        notified_on=dt.date(2026, 11, 20),
        previous_municipality="131130",
        previous_address="神南一丁目1番",
        household=head.household,
    ).residents[0]


def leaks(body: str, persons: dict[str, Person], *, shared: bool = False) -> list[str]:
    """Which of the persons' strings appear in `body` (with `shared`, also the addresses unrestricted people share)."""
    return [
        f"{key}:{label}={text}"
        for key, p in persons.items()
        for label, text in p.strings(shared=shared).items()
        if text in body
    ]
