"""Every 戸籍届出 kind: its effect on the 戸籍 rows, the 附票 and the 住民票, kept consistent in one transaction."""

import datetime as dt

import pytest

from common.errors import ServiceError
from common.models import ChangeEvent
from koseki_fuhyo.choices import EntryStatus, FilingKind, FilingStatus, KosekiStatus
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry, Koseki, KosekiFiling
from koseki_fuhyo.services import filings
from koseki_fuhyo.services.filings import FiledPerson, FilingHeader, KosekiPlace, Newborn, NewNational
from koseki_fuhyo.tests.factories import FuhyoEntryFactory, KosekiFactory, link_to_koseki
from registry.choices import ChangeReason, ResidentStatus
from registry.consistency import iter_inconsistencies
from registry.models import Resident, ResidentChange
from registry.services.entries import NewHousehold
from registry.tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db
D = dt.date(2026, 11, 20)
HEADER = FilingHeader(filed_on=D)


def assert_consistent():
    assert [str(i) for i in iter_inconsistencies()] == []


@pytest.fixture
def couple_in_ward_koseki():
    """山田太郎 (世帯主, 筆頭者) and 花子 (妻) live in the ward, their 戸籍 is in the ward."""
    head = ResidentFactory()
    wife = ResidentFactory(
        household=head.household,
        relationship="妻",
        given_name="花子",
        given_name_kana="ハナコ",
        sex="2",
        birth_date=dt.date(1982, 2, 2),
    )
    koseki = KosekiFactory(hittousha_surname="山田", hittousha_given_name="太郎", honseki_address="北新宿一丁目1番")
    link_to_koseki(head, koseki)
    link_to_koseki(wife, koseki)
    head.refresh_from_db()
    wife.refresh_from_db()
    assert_consistent()
    return head, wife, koseki


def test_birth_into_ward_koseki_and_household(as_clerk, couple_in_ward_koseki):
    head, wife, koseki = couple_in_ward_koseki
    result = filings.file_birth(
        HEADER,
        Newborn("山田", "陽向", "やまだ", "ひなた", dt.date(2026, 11, 10), "2"),
        KosekiPlace(koseki=koseki),
        household=head.household,
        parents=[FiledPerson(role="father", entry=koseki.entries.get(given_name="太郎"))],
    )
    child_entry = result.entries[0]
    child = Resident.objects.get(juminhyo_code=child_entry.juminhyo_code, status=ResidentStatus.CURRENT)
    assert child.surname_kana == "ヤマダ"
    assert child.relationship == "子"
    assert child.honseki_address == koseki.honseki_address
    assert child.hittousha_name == "山田　太郎"
    assert child_entry.current_address().established_on == dt.date(2026, 11, 10)
    assert ResidentChange.objects.get(resident=child).filing == result.filing
    assert result.filing.status == FilingStatus.RECORDED
    assert result.filing.persons.count() == 2
    assert not ChangeEvent.objects.filter(kind=ChangeEvent.Kind.FUHYO_UNMATCHED).exists()
    assert_consistent()


def test_birth_of_child_living_elsewhere_with_honseki_in_ward(as_clerk):
    koseki = KosekiFactory()
    result = filings.file_birth(
        HEADER,
        Newborn("山田", "蓮", "ヤマダ", "レン", dt.date(2026, 11, 1), "1"),
        KosekiPlace(koseki=koseki),
        address_municipality="141003",
        address="中区本町一丁目1番",
    )
    entry = result.entries[0]
    assert entry.juminhyo_code == ""
    assert entry.current_address().municipality_id == "141003"
    assert not Resident.objects.exists()
    filed = ChangeEvent.objects.get(kind=ChangeEvent.Kind.KOSEKI_FILED)
    assert filed.payload["persons"][0]["address_municipality"] == "141003"
    assert filed.payload["persons"][0]["resident_in_ward"] is False


def test_birth_with_honseki_elsewhere_gives_only_a_resident(as_clerk):
    head = ResidentFactory()
    result = filings.file_birth(
        HEADER,
        Newborn("山田", "蓮", "ヤマダ", "レン", dt.date(2026, 11, 1), "1"),
        KosekiPlace(
            honseki_municipality="131130",
            honseki_address="神南一丁目1番",
            hittousha_surname="山田",
            hittousha_given_name="一夫",
        ),
        household=head.household,
    )
    assert result.entries == []
    assert not FuhyoEntry.objects.exists()
    child = result.resident_results[0].residents[0]
    assert child.honseki_municipality_id == "131130"
    assert child.hittousha_name == "山田　一夫"


def test_death_of_resident_removes_from_both_registers(as_clerk, couple_in_ward_koseki):
    head, wife, koseki = couple_in_ward_koseki
    filings.file_death(HEADER, FiledPerson(resident=head), date_of_death=dt.date(2026, 11, 18))
    head.refresh_from_db()
    assert head.status == ResidentStatus.REMOVED
    assert head.removal_reason == ChangeReason.DEATH
    entry = koseki.entries.get(juminhyo_code=head.juminhyo_code)
    assert entry.status == EntryStatus.REMOVED
    assert entry.removed_on == dt.date(2026, 11, 18)
    wife.refresh_from_db()
    assert wife.relationship == "世帯主"  # the only one left
    assert Koseki.objects.get(pk=koseki.pk).status == KosekiStatus.CURRENT
    assert_consistent()


def test_death_of_last_member_closes_koseki(as_clerk):
    resident = ResidentFactory()
    entry = link_to_koseki(resident)
    filings.file_death(HEADER, FiledPerson(entry=entry), date_of_death=D)
    koseki = Koseki.objects.get(pk=entry.koseki_id)
    assert koseki.status == KosekiStatus.CLOSED
    assert koseki.closed_reason == "全員除籍"
    assert ChangeEvent.objects.filter(kind=ChangeEvent.Kind.KOSEKI_CLOSED).count() == 1


def test_disappearance_removes_by_ex_officio(as_clerk):
    resident = ResidentFactory()
    link_to_koseki(resident)
    filings.file_death(HEADER, FiledPerson(resident=resident), date_of_death=D, kind=FilingKind.DISAPPEARANCE)
    assert ResidentChange.objects.get(resident=resident).reason == ChangeReason.EX_OFFICIO_REMOVAL


def test_marriage_into_new_ward_koseki(as_clerk):
    husband = ResidentFactory(surname="佐藤", given_name="健太", surname_kana="サトウ", given_name_kana="ケンタ")
    parents_koseki = KosekiFactory(hittousha_surname="佐藤", hittousha_given_name="一男")
    link_to_koseki(husband, parents_koseki)
    wife = ResidentFactory(
        surname="鈴木",
        given_name="愛",
        surname_kana="スズキ",
        given_name_kana="アイ",
        sex="2",
        birth_date=dt.date(1985, 1, 1),
    )
    result = filings.file_marriage(
        HEADER,
        FiledPerson(resident=husband),
        FiledPerson(resident=wife),
        surname_from="husband",
        place=KosekiPlace(honseki_municipality="131041", honseki_address="西新宿三丁目3番"),
    )
    new_koseki = Koseki.objects.get(honseki_address="西新宿三丁目3番")
    assert new_koseki.hittousha_name == "佐藤　健太"
    assert set(new_koseki.entries.values_list("given_name", "surname")) == {("健太", "佐藤"), ("愛", "佐藤")}
    assert parents_koseki.entries.get(given_name="健太").status == EntryStatus.REMOVED
    wife.refresh_from_db()
    assert (wife.surname, wife.surname_kana, wife.honseki_municipality_id) == ("佐藤", "サトウ", "131041")
    assert wife.hittousha_name == "佐藤　健太"
    # Wife lived in the ward with 本籍 elsewhere: her 附票 row starts with her current ward address.
    wife_entry = new_koseki.entries.get(given_name="愛")
    assert wife_entry.current_address().address == wife.address
    assert result.filing.kind == FilingKind.MARRIAGE
    assert_consistent()


def test_marriage_to_koseki_elsewhere_removes_from_ward(as_clerk, couple_in_ward_koseki):
    head, wife, koseki = couple_in_ward_koseki
    child = ResidentFactory(
        household=head.household,
        relationship="子",
        given_name="一郎",
        given_name_kana="イチロウ",
        birth_date=dt.date(2000, 1, 1),
    )
    link_to_koseki(child, koseki)
    spouse = FiledPerson(
        role="spouse",
        surname="高橋",
        given_name="舞",
        surname_kana="タカハシ",
        given_name_kana="マイ",
        birth_date=dt.date(2001, 1, 1),
        sex="2",
        address_municipality="271004",
        address="北区1番",
    )
    filings.file_marriage(
        HEADER,
        FiledPerson(resident=child),
        spouse,
        surname_from="wife",
        place=KosekiPlace(honseki_municipality="271004", honseki_address="北区2番"),
    )
    child.refresh_from_db()
    assert child.surname == "高橋"
    assert child.honseki_municipality_id == "271004"
    assert child.hittousha_name == "高橋　舞"
    assert koseki.entries.get(given_name="一郎").status == EntryStatus.REMOVED
    filed = ChangeEvent.objects.get(kind=ChangeEvent.Kind.KOSEKI_FILED)
    spouse_item = filed.payload["persons"][1]
    assert spouse_item["address_municipality"] == "271004"
    assert spouse_item["resident_in_ward"] is False
    # She lives in 大阪市: her new 本籍 and 筆頭者 are what the 住民票記載事項通知 to 大阪市 will carry.
    assert spouse_item["juminhyo_changes"] == {
        "honseki_municipality": "271004",
        "honseki_address": "北区2番",
        "hittousha_name": "高橋　舞",
    }
    assert_consistent()


def test_marriage_refusal_changes_nothing(as_clerk, couple_in_ward_koseki):
    head, wife, koseki = couple_in_ward_koseki
    counts = (KosekiFiling.objects.count(), FuhyoEntry.objects.count(), ChangeEvent.objects.count())
    with pytest.raises(ServiceError):
        filings.file_marriage(
            HEADER,
            FiledPerson(resident=head),
            FiledPerson(resident=wife),
            surname_from="husband",
            place=KosekiPlace(honseki_municipality="999997", honseki_address="x"),  # valid, not in the table
        )
    assert (KosekiFiling.objects.count(), FuhyoEntry.objects.count(), ChangeEvent.objects.count()) == counts


def test_divorce_wife_returns_to_new_koseki_with_maiden_name(as_clerk, couple_in_ward_koseki):
    head, wife, koseki = couple_in_ward_koseki
    filings.file_relocation(
        FilingKind.DIVORCE,
        HEADER,
        [FiledPerson(resident=wife)],
        KosekiPlace(honseki_municipality="131041", honseki_address="四谷一丁目1番"),
        new_surname="田中",
        new_surname_kana="たなか",
    )
    wife.refresh_from_db()
    assert (wife.surname, wife.surname_kana, wife.hittousha_name) == ("田中", "タナカ", "田中　花子")
    assert Koseki.objects.get(honseki_address="四谷一丁目1番").entries.get().given_name == "花子"
    assert_consistent()


def test_divorce_keeping_married_surname(as_clerk, couple_in_ward_koseki):
    head, wife, koseki = couple_in_ward_koseki
    filings.file_relocation(
        FilingKind.DIVORCE_SURNAME,
        HEADER,
        [FiledPerson(resident=wife)],
        KosekiPlace(honseki_municipality="131041", honseki_address="四谷二丁目2番"),
    )
    wife.refresh_from_db()
    assert wife.surname == "山田"
    assert wife.hittousha_name == "山田　花子"
    assert_consistent()


def test_adoption_into_existing_koseki(as_clerk, couple_in_ward_koseki):
    head, wife, koseki = couple_in_ward_koseki
    adoptee = ResidentFactory(
        surname="伊藤", given_name="翔", surname_kana="イトウ", given_name_kana="ショウ", birth_date=dt.date(2009, 5, 5)
    )
    filings.file_relocation(
        FilingKind.ADOPTION,
        HEADER,
        [FiledPerson(resident=adoptee)],
        KosekiPlace(koseki=koseki),
        new_surname="山田",
        new_surname_kana="ヤマダ",
        others=[FiledPerson(role="adopter", resident=head)],
    )
    adoptee.refresh_from_db()
    assert adoptee.surname == "山田"
    assert adoptee.honseki_address == koseki.honseki_address
    assert koseki.entries.filter(status=EntryStatus.CURRENT).count() == 3
    assert_consistent()


def test_branch_forms_own_koseki(as_clerk, couple_in_ward_koseki):
    head, wife, koseki = couple_in_ward_koseki
    child = ResidentFactory(
        household=head.household,
        relationship="子",
        given_name="一郎",
        given_name_kana="イチロウ",
        birth_date=dt.date(2000, 1, 1),
    )
    link_to_koseki(child, koseki)
    filings.file_relocation(
        FilingKind.BRANCH,
        HEADER,
        [FiledPerson(resident=child)],
        KosekiPlace(honseki_municipality="131041", honseki_address="神楽坂一丁目1番"),
    )
    child.refresh_from_db()
    assert child.hittousha_name == "山田　一郎"
    assert child.honseki_address == "神楽坂一丁目1番"
    assert_consistent()


def test_honseki_transfer_within_ward(as_clerk, couple_in_ward_koseki):
    head, wife, koseki = couple_in_ward_koseki
    old_entry = koseki.entries.get(given_name="太郎")
    FuhyoAddress.objects.filter(entry=old_entry).update(is_current=False)  # an older line to be left behind
    FuhyoAddress.objects.create(
        entry=old_entry,
        municipality_id="131041",
        address=head.address,
        established_on=head.address_established_on,
        recorded_on=D,
        reason="転居",
    )
    history_before = list(old_entry.addresses.order_by("pk").values_list("pk", flat=True))
    events_before = ChangeEvent.objects.count()
    result = filings.file_honseki_transfer(
        HEADER, koseki, KosekiPlace(honseki_municipality="131041", honseki_address="戸山一丁目1番")
    )
    # 管内転籍: the same 戸籍 with its 本籍 corrected; no new 戸籍, no closed one.
    koseki.refresh_from_db()
    assert (koseki.status, koseki.honseki_address) == (KosekiStatus.CURRENT, "戸山一丁目1番")
    assert Koseki.objects.count() == 1
    # The 附票 continues: the same rows, the whole address history kept.
    assert koseki.entries.filter(status=EntryStatus.CURRENT).count() == 2
    assert list(old_entry.addresses.order_by("pk").values_list("pk", flat=True)) == history_before
    # J-LIS: one 修正 per member (no 消除 and 記載).
    kinds = [e.kind for e in ChangeEvent.objects.order_by("pk")[events_before:]]
    assert kinds.count(ChangeEvent.Kind.FUHYO_AMENDED) == 2
    assert not {ChangeEvent.Kind.FUHYO_REMOVED, ChangeEvent.Kind.FUHYO_ENTERED, ChangeEvent.Kind.KOSEKI_CLOSED} & set(
        kinds
    )
    amended = [e for e in result.events if e.kind == ChangeEvent.Kind.FUHYO_AMENDED]
    assert {e.payload["honseki_address"] for e in amended} == {"戸山一丁目1番"}
    head.refresh_from_db()
    assert head.honseki_address == "戸山一丁目1番"
    assert_consistent()


def test_honseki_transfer_out_of_ward(as_clerk, couple_in_ward_koseki):
    head, wife, koseki = couple_in_ward_koseki
    filings.file_honseki_transfer(
        HEADER, koseki, KosekiPlace(honseki_municipality="141003", honseki_address="中区本町一丁目1番")
    )
    koseki.refresh_from_db()
    assert koseki.status == KosekiStatus.CLOSED
    assert ChangeEvent.objects.filter(kind=ChangeEvent.Kind.KOSEKI_CLOSED, koseki=koseki).count() == 1
    assert not FuhyoEntry.objects.filter(status=EntryStatus.CURRENT).exists()
    assert ChangeEvent.objects.filter(kind=ChangeEvent.Kind.FUHYO_REMOVED).count() == 2
    for r in (head, wife):
        r.refresh_from_db()
        assert r.honseki_municipality_id == "141003"
        assert r.hittousha_name == "山田　太郎"
    assert_consistent()


def test_surname_change_changes_every_member(as_clerk, couple_in_ward_koseki):
    head, wife, koseki = couple_in_ward_koseki
    result = filings.file_surname_change(HEADER, koseki, "山口", "ヤマグチ")
    for r in (head, wife):
        r.refresh_from_db()
        assert (r.surname, r.surname_kana, r.hittousha_name) == ("山口", "ヤマグチ", "山口　太郎")
    amended = [e for e in result.events if e.kind == ChangeEvent.Kind.FUHYO_AMENDED]
    assert len(amended) == 2
    assert {e.payload["hittousha_name"] for e in amended} == {"山口　太郎"}  # what J-LIS is told: the new 筆頭者
    assert_consistent()


def test_given_name_change_of_hittousha_changes_everyones_hittousha(as_clerk, couple_in_ward_koseki):
    head, wife, koseki = couple_in_ward_koseki
    result = filings.file_given_name_change(
        HEADER, FiledPerson(entry=koseki.entries.get(given_name="太郎")), "大輔", "ダイスケ"
    )
    (amended,) = [e for e in result.events if e.kind == ChangeEvent.Kind.FUHYO_AMENDED]
    assert amended.payload["hittousha_name"] == "山田　大輔"
    wife.refresh_from_db()
    assert wife.hittousha_name == "山田　大輔"
    head.refresh_from_db()
    assert head.given_name == "大輔"
    assert_consistent()


def test_furigana(as_clerk, couple_in_ward_koseki):
    head, wife, koseki = couple_in_ward_koseki
    filings.file_furigana(HEADER, FiledPerson(entry=koseki.entries.get(given_name="太郎")), "ヤマダ", "タロー")
    head.refresh_from_db()
    assert head.given_name_kana == "タロー"
    assert_consistent()


@pytest.mark.parametrize("kind", sorted(filings.RECORD_ONLY_KINDS))
def test_record_only_kinds_change_no_register(as_clerk, couple_in_ward_koseki, kind):
    head, wife, koseki = couple_in_ward_koseki
    before = (Resident.objects.filter(updated_at__gt=head.updated_at).count(), FuhyoAddress.objects.count())
    result = filings.file_record_only(kind, HEADER, [FiledPerson(resident=head)])
    assert result.filing.kind == kind
    assert result.filing.status == FilingStatus.RECORDED
    assert (Resident.objects.filter(updated_at__gt=head.updated_at).count(), FuhyoAddress.objects.count()) == before
    assert not ResidentChange.objects.exists()
    assert ChangeEvent.objects.filter(kind=ChangeEvent.Kind.KOSEKI_FILED).count() == 1


def test_naturalization_of_a_resident(as_clerk):
    result = filings.file_new_national(
        FilingKind.NATURALIZATION,
        HEADER,
        NewNational("林", "明", "ハヤシ", "アキラ", dt.date(1975, 7, 7), "1"),
        KosekiPlace(
            honseki_municipality="131041",
            honseki_address="百人町一丁目1番",
            hittousha_surname="林",
            hittousha_given_name="明",
        ),
        new_household=NewHousehold("百人町一丁目2番3号"),
    )
    resident = result.resident_results[0].residents[0]
    assert resident.honseki_address == "百人町一丁目1番"
    assert ResidentChange.objects.get(resident=resident).reason == ChangeReason.EX_OFFICIO_ENTRY
    assert_consistent()


def test_filing_dates_are_checked(as_clerk):
    with pytest.raises(ServiceError):
        filings.file_record_only(
            FilingKind.RECOGNITION,
            FilingHeader(filed_on=dt.date(2026, 12, 1)),
            [FiledPerson(surname="山田", given_name="太郎")],
        )
    with pytest.raises(ServiceError):
        filings.file_record_only(
            FilingKind.RECOGNITION,
            FilingHeader(filed_on=D, accepted_on=dt.date(2026, 11, 1)),
            [FiledPerson(surname="山田", given_name="太郎")],
        )
    assert not KosekiFiling.objects.exists()


def test_entry_with_unknown_person_in_ward_koseki(as_clerk):
    entry = FuhyoEntryFactory()
    FuhyoAddress.objects.create(
        entry=entry,
        municipality_id="141003",
        address="中区1番",
        established_on=dt.date(2020, 1, 1),
        recorded_on=dt.date(2020, 1, 1),
        reason="転入",
    )
    filings.file_relocation(
        FilingKind.ENTRY,
        HEADER,
        [FiledPerson(entry=entry)],
        KosekiPlace(
            honseki_municipality="131041",
            honseki_address="早稲田町1番",
            hittousha_surname="山田",
            hittousha_given_name="花",
        ),
    )
    entry.refresh_from_db()
    assert entry.status == EntryStatus.REMOVED
    new = Koseki.objects.get(honseki_address="早稲田町1番").entries.get()
    assert new.current_address().municipality_id == "141003"
