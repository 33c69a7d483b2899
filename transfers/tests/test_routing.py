"""Routing: each kind of change causes exactly the notices of the product decisions, to the right receiver; the
same-ward cases and clerk tasks cause none. The events come from the real services."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from common.models import ChangeEvent
from koseki_fuhyo.choices import FilingKind
from koseki_fuhyo.services import filings
from koseki_fuhyo.services.filings import FiledPerson, FilingHeader, KosekiPlace, Newborn
from koseki_fuhyo.tests.factories import KosekiFactory, link_to_koseki
from registry import services
from registry.services.entries import NewHousehold
from registry.tests.factories import ResidentFactory
from registry.tests.factories import person_data as person
from transfers.routing import JLIS, NoticeKind, route

pytestmark = pytest.mark.django_db
D = dt.date(2026, 11, 20)
OSAKA, SHIBUYA, YOKOHAMA = "271004", "131130", "141003"


def plans_of(result_events) -> list[tuple[str, str]]:
    return sorted((plan.kind, plan.receiver) for event in result_events for plan in route(event))


def test_move_in_from_elsewhere_notifies_previous_address_and_honsekichi(as_clerk):
    result = services.move_in(
        [person()],
        change_date=D,
        notified_on=D,
        previous_municipality=YOKOHAMA,
        previous_address="中区1番",
        new_household=NewHousehold("四谷一丁目1番"),
    )
    assert plans_of(result.events) == sorted([(NoticeKind.MOVE_IN, YOKOHAMA), (NoticeKind.FUHYO_ITEMS, OSAKA)])


def test_move_in_with_honseki_in_ward_updates_fuhyo_here_and_tells_jlis(as_clerk):
    koseki = KosekiFactory(honseki_address="北新宿一丁目1番", hittousha_surname="佐藤", hittousha_given_name="健太")
    resident = ResidentFactory(
        surname="佐藤",
        given_name="健太",
        surname_kana="サトウ",
        given_name_kana="ケンタ",
        birth_date=dt.date(1990, 1, 15),
    )
    entry = link_to_koseki(resident, koseki)
    services.move_out(
        [resident], planned_date=D, notified_on=D, destination_municipality=YOKOHAMA, destination_address="中区1番"
    )
    result = services.move_in(
        [person(juminhyo_code=entry.juminhyo_code, honseki_municipality="131041", honseki_address="北新宿一丁目1番")],
        change_date=D,
        notified_on=D,
        previous_municipality=YOKOHAMA,
        previous_address="中区1番",
        new_household=NewHousehold("四谷二丁目2番"),
    )
    # 転入通知 to Yokohama; no 附票記載事項通知 (the 本籍地 is this ward: updated in the same transaction); J-LIS told.
    assert plans_of(result.events) == sorted([(NoticeKind.JLIS_FUHYO, JLIS), (NoticeKind.MOVE_IN, YOKOHAMA)])
    # The new 附票 line: established on the 異動日, recorded on the day it was written, its 事由 a label.
    line = entry.current_address()
    assert (line.established_on, line.recorded_on, line.reason) == (D, timezone.localdate(), "転入")
    assert timezone.localdate() != D
    (jlis,) = [plan for event in result.events for plan in route(event) if plan.kind == NoticeKind.JLIS_FUHYO]
    assert (jlis.payload["recorded_on"], jlis.payload["reason"]) == (timezone.localdate().isoformat(), "転入")


def test_move_within_notifies_honsekichi_elsewhere_only(as_clerk):
    resident = ResidentFactory()  # 本籍 in 渋谷区
    result = services.move_within(
        [resident], change_date=D, notified_on=D, new_address=NewHousehold("高田馬場一丁目1番")
    )
    assert plans_of(result.events) == sorted([(NoticeKind.FUHYO_ITEMS, SHIBUYA)])


def test_household_head_change_causes_no_notice(as_clerk):
    head = ResidentFactory()
    wife = ResidentFactory(household=head.household, relationship="妻", given_name="花子", sex="2")
    result = services.change_household_head(head.household, wife, {head.pk: "夫"}, change_date=D, notified_on=D)
    assert plans_of(result.events) == []


def test_amendment_of_an_item_not_on_the_fuhyo_causes_no_notice(as_clerk):
    resident = ResidentFactory()
    result = services.ex_officio_amendment(
        resident, {"became_resident_on": dt.date(2010, 4, 2)}, change_date=D, note="誤記修正"
    )
    assert plans_of(result.events) == []
    result = services.ex_officio_amendment(resident, {"given_name_kana": "タロー"}, change_date=D, note="誤記修正")
    assert plans_of(result.events) == sorted([(NoticeKind.FUHYO_ITEMS, SHIBUYA)])


def test_a_corrected_date_of_settling_at_the_address_is_told_to_the_honsekichi(as_clerk):
    """住所を定めた年月日 is a 附票 item (住基法17条4号): its correction alone is a 19条1項 notice."""
    resident = ResidentFactory()
    result = services.ex_officio_amendment(
        resident,
        {"address_established_on": resident.address_established_on - dt.timedelta(days=3)},
        change_date=D,
        note="誤記修正",
    )
    assert plans_of(result.events) == sorted([(NoticeKind.FUHYO_ITEMS, SHIBUYA)])
    (plan,) = [plan for event in result.events for plan in route(event)]
    assert (
        plan.payload["person"]["address_established_on"]
        == (resident.address_established_on - dt.timedelta(days=3)).isoformat()
    )


def test_a_new_juminhyo_code_inside_the_ward_reaches_the_fuhyo_and_jlis(as_clerk):
    """住民票コード is a 附票 item: a 職権修正 of the code of a person whose 本籍 is here changes the 附票 row in
    the same transaction and tells J-LIS; nothing is left for a clerk as unmatched."""
    from common.juminhyo_codes import juminhyo_code_for
    from koseki_fuhyo.models import FuhyoEntry

    koseki = KosekiFactory(honseki_address="北新宿一丁目1番")
    resident = ResidentFactory(honseki_municipality_id="131041", honseki_address="北新宿一丁目1番")
    entry = link_to_koseki(resident, koseki)
    new_code = juminhyo_code_for(424242)
    result = services.ex_officio_amendment(resident, {"juminhyo_code": new_code}, change_date=D, note="コードの変更")
    entry = FuhyoEntry.objects.get(pk=entry.pk)
    assert entry.juminhyo_code == new_code
    assert not [e for e in result.events if e.kind == ChangeEvent.Kind.FUHYO_UNMATCHED]
    assert plans_of(result.events) == [(NoticeKind.JLIS_FUHYO, JLIS)]
    (jlis,) = [plan for event in result.events for plan in route(event)]
    assert jlis.payload["person"]["juminhyo_code"] == new_code


def test_death_sends_nothing_to_the_honsekichi(as_clerk):
    """The 死亡届 reaches the 本籍地, which closes the 附票 itself; no 附票 item is ours to report."""
    result = services.death(ResidentFactory(), date_of_death=D, notified_on=D)
    assert plans_of(result.events) == []


def test_a_domestic_move_out_sends_nothing_to_the_honsekichi_but_moving_abroad_does(as_clerk):
    """The new 住所地 reports the 転入; a 国外転出 is itself a 附票 item (国外転出者である旨)."""
    result = services.move_out(
        [ResidentFactory()],
        planned_date=D,
        notified_on=D,
        destination_municipality=YOKOHAMA,
        destination_address="中区1番",
    )
    assert plans_of(result.events) == []
    result = services.move_out([ResidentFactory()], planned_date=D, notified_on=D, destination_country="アメリカ合衆国")
    assert plans_of(result.events) == sorted([(NoticeKind.FUHYO_ITEMS, SHIBUYA)])


def test_a_new_honseki_here_sends_nothing_to_the_old_honsekichi(as_clerk):
    """After a 転籍 into this ward the 住民票's 本籍 changes; the old 本籍地 closed its 附票 when the 本籍 moved."""
    resident = ResidentFactory()
    result = services.apply_koseki_change(
        resident,
        {"honseki_municipality": "131041", "honseki_address": "戸山一丁目1番"},
        change_date=D,
        notified_on=D,
        note="転籍",
    )
    assert SHIBUYA not in {receiver for _, receiver in plans_of(result.events)}


def test_filing_for_a_person_living_elsewhere_notifies_the_address_municipality(as_clerk):
    koseki = KosekiFactory()
    result = filings.file_birth(
        FilingHeader(filed_on=D),
        Newborn("山田", "蓮", "ヤマダ", "レン", D, "1"),
        KosekiPlace(koseki=koseki),
        address_municipality=YOKOHAMA,
        address="中区1番",
    )
    assert plans_of(result.events) == sorted([(NoticeKind.JLIS_FUHYO, JLIS), (NoticeKind.JUMINHYO_ITEMS, YOKOHAMA)])


def test_transfer_of_honseki_out_of_ward_sends_honseki_transfer_with_fuhyo_items(as_clerk):
    resident = ResidentFactory()
    koseki = KosekiFactory(hittousha_surname="山田", hittousha_given_name="太郎")
    link_to_koseki(resident, koseki)
    result = filings.file_honseki_transfer(
        FilingHeader(filed_on=D), koseki, KosekiPlace(honseki_municipality=OSAKA, honseki_address="北区1番")
    )
    plans = [plan for event in result.events for plan in route(event)]
    transfer = [p for p in plans if p.kind == NoticeKind.HONSEKI_TRANSFER]
    assert [p.receiver for p in transfer] == [OSAKA]
    payload = transfer[0].payload
    # The person's 附票 items: the address in this ward, the new 本籍 (Osaka) and the old one (this ward).
    assert payload["person"]["address_municipality"] == "131041"
    assert payload["person"]["juminhyo_code"] == resident.juminhyo_code
    assert (payload["person"]["honseki_municipality"], payload["new_honseki"]["municipality"]) == (OSAKA, OSAKA)
    assert payload["old_honseki"] == {
        "municipality": "131041",
        "address": koseki.honseki_address,
        "hittousha_name": "山田　太郎",
    }
    # The resident lives here: her 住民票 changed in the same transaction (no 住民票記載事項通知); the new 本籍地 is
    # Osaka, which the 附票記載事項通知 of the 本籍 change tells too, and J-LIS learns the 附票 消除.
    assert sorted((p.kind, p.receiver) for p in plans) == sorted(
        [
            (NoticeKind.HONSEKI_TRANSFER, OSAKA),
            (NoticeKind.FUHYO_ITEMS, OSAKA),
            (NoticeKind.JLIS_FUHYO, JLIS),
        ]
    )


def test_record_only_filing_and_unmatched_cause_nothing(as_clerk):
    resident = ResidentFactory()
    result = filings.file_record_only(
        FilingKind.RECOGNITION, FilingHeader(filed_on=D), [FiledPerson(resident=resident)]
    )
    assert plans_of(result.events) == []
    unmatched = ChangeEvent(kind=ChangeEvent.Kind.FUHYO_UNMATCHED, payload={})
    assert route(unmatched) == []


def _member_living_in(municipality: str, **fields):
    """A member of a 戸籍 of this ward whose 住民票 is elsewhere: the 附票 shows the 住所地."""
    from common.juminhyo_codes import juminhyo_code_for
    from koseki_fuhyo.models import FuhyoAddress
    from koseki_fuhyo.tests.factories import FuhyoEntryFactory

    entry = FuhyoEntryFactory(juminhyo_code=juminhyo_code_for(777), **fields)
    FuhyoAddress.objects.create(
        entry=entry,
        municipality_id=municipality,
        address="神南一丁目1番",
        established_on=dt.date(2015, 4, 1),
        recorded_on=dt.date(2015, 4, 3),
        reason="転入",
    )
    return entry


def test_a_death_filed_here_for_a_person_living_elsewhere_tells_the_address_municipality(as_clerk):
    """住基法9条2項: a 届出 recorded in the 戸籍 here changes the 住民票 kept by the 住所地, which the 附票 names —
    also when the clerk picked the person from our 戸籍 and typed no address."""
    entry = _member_living_in(SHIBUYA)
    result = filings.file_death(FilingHeader(filed_on=D), FiledPerson(entry=entry), date_of_death=D)
    plans = [plan for event in result.events for plan in route(event)]
    juminhyo = [plan for plan in plans if plan.kind == NoticeKind.JUMINHYO_ITEMS]
    assert [plan.receiver for plan in juminhyo] == [SHIBUYA]
    assert juminhyo[0].payload["person"]["juminhyo_code"] == entry.juminhyo_code


def test_a_surname_change_tells_the_address_municipality_of_a_member_living_elsewhere(as_clerk):
    entry = _member_living_in(SHIBUYA)
    result = filings.file_surname_change(FilingHeader(filed_on=D), entry.koseki, "山口", "ヤマグチ")
    receivers = [plan.receiver for event in result.events for plan in route(event)]
    assert receivers.count(SHIBUYA) == 1
    assert (NoticeKind.JUMINHYO_ITEMS, SHIBUYA) in plans_of(result.events)


def test_a_member_abroad_or_without_an_address_gets_no_juminhyo_notice(as_clerk):
    from koseki_fuhyo.tests.factories import FuhyoEntryFactory

    entry = FuhyoEntryFactory()
    result = filings.file_death(FilingHeader(filed_on=D), FiledPerson(entry=entry), date_of_death=D)
    assert NoticeKind.JUMINHYO_ITEMS not in {kind for kind, _ in plans_of(result.events)}


def test_a_move_in_from_yokohama_naka_is_accepted_and_its_notice_goes_there(as_clerk):
    """Every 市区町村 and 行政区 is known: the 転入通知 goes to the 行政区 the person came from."""
    result = services.move_in(
        [person()],
        change_date=D,
        notified_on=D,
        previous_municipality="141046",
        previous_address="山下町1番地",
        new_household=NewHousehold("四谷二丁目2番"),
    )
    assert (NoticeKind.MOVE_IN, "141046") in plans_of(result.events)
    assert result.residents[0].previous_address_text == "神奈川県横浜市中区山下町1番地"


def test_the_furigana_is_carried_in_every_notice_that_carries_the_name(as_clerk):
    """氏名の振り仮名 (held in the カナ fields) goes with 19条1項, 9条2項 and 19条3項 notices."""
    resident = ResidentFactory()
    result = services.ex_officio_amendment(resident, {"given_name_kana": "タロー"}, change_date=D, note="振り仮名")
    (fuhyo,) = [plan for event in result.events for plan in route(event) if plan.kind == NoticeKind.FUHYO_ITEMS]
    assert fuhyo.payload["person"]["given_name_kana"] == "タロー"

    entry = _member_living_in(SHIBUYA)
    result = filings.file_furigana(FilingHeader(filed_on=D), FiledPerson(entry=entry), "ヤマダ", "タロー")
    (juminhyo,) = [p for e in result.events for p in route(e) if p.kind == NoticeKind.JUMINHYO_ITEMS]
    assert juminhyo.receiver == SHIBUYA
    # The person as the 住所地 knows them (to find the 住民票), and the new 振り仮名 among the changes.
    assert juminhyo.payload["person"]["given_name_kana"] == "タロウ"
    assert "タロー" in json.dumps(juminhyo.payload["person"]["changes"], ensure_ascii=False)

    result = filings.file_honseki_transfer(
        FilingHeader(filed_on=D), entry.koseki, KosekiPlace(honseki_municipality=YOKOHAMA, honseki_address="中区1番")
    )
    (transfer,) = [p for e in result.events for p in route(e) if p.kind == NoticeKind.HONSEKI_TRANSFER]
    assert transfer.payload["person"]["given_name_kana"] == "タロー"


def test_the_fuhyo_address_wins_over_the_address_typed_from_the_todokesho(as_clerk):
    """The 住所地 of a 9条2項 notice is taken from our 住民票, then from the person's current 附票 address,
    and only then from what the 届書 says — a 届書 naming 中野区 does not redirect the notice about a member whose
    附票 shows 渋谷区."""
    entry = _member_living_in(SHIBUYA)
    filed = FiledPerson(entry=entry, address_municipality="131148", address="中央一丁目1番")
    result = filings.file_death(FilingHeader(filed_on=D), filed, date_of_death=D)
    juminhyo = [p for e in result.events for p in route(e) if p.kind == NoticeKind.JUMINHYO_ITEMS]
    assert [plan.receiver for plan in juminhyo] == [SHIBUYA]
    assert result.filing.persons.get().address_municipality_id == SHIBUYA


def test_the_address_typed_from_the_todokesho_is_used_when_the_fuhyo_shows_none(as_clerk):
    """A member abroad per the 附票 (no 住所地 there): the 届書's address is the only one, and the notice goes there."""
    from koseki_fuhyo.tests.factories import FuhyoEntryFactory

    entry = FuhyoEntryFactory()
    filed = FiledPerson(entry=entry, address_municipality="131148", address="中央一丁目1番")
    result = filings.file_death(FilingHeader(filed_on=D), filed, date_of_death=D)
    assert (NoticeKind.JUMINHYO_ITEMS, "131148") in plans_of(result.events)


def test_moving_abroad_with_the_honseki_here_records_the_fuhyo_line_today(as_clerk):
    """Gap 5 on the 国外転出 path: the 附票 line (国外転出) written in the same transaction is dated with the day it was
    written (記録日), not the 届出日; its 国外転出年月日 is the planned date; J-LIS is told the same 記録日."""
    koseki = KosekiFactory(honseki_address="北新宿一丁目1番")
    resident = ResidentFactory(honseki_municipality_id="131041", honseki_address="北新宿一丁目1番")
    entry = link_to_koseki(resident, koseki)
    result = services.move_out(
        [resident], planned_date=D, notified_on=D - dt.timedelta(days=2), destination_country="アメリカ合衆国"
    )
    line = entry.current_address()
    assert (line.is_abroad, line.established_on, line.recorded_on) == (True, D, timezone.localdate())
    (jlis,) = [plan for event in result.events for plan in route(event) if plan.kind == NoticeKind.JLIS_FUHYO]
    assert jlis.payload["recorded_on"] == timezone.localdate().isoformat()


def test_a_filing_recorded_after_its_acceptance_tells_jlis_the_day_it_was_written(as_clerk):
    """Gap 5 on the 戸籍届出 path: a 届書 accepted on D and recorded today gives J-LIS today as 記録日; the 附票 row
    keeps D as its 消除日 (and a new row D as 入籍日), and a new address line is recorded today."""
    from koseki_fuhyo.models import FuhyoEntry

    entry = _member_living_in(SHIBUYA)
    result = filings.file_death(FilingHeader(filed_on=D), FiledPerson(entry=entry), date_of_death=D)
    (jlis,) = [p for e in result.events for p in route(e) if p.kind == NoticeKind.JLIS_FUHYO]
    assert jlis.payload["recorded_on"] == timezone.localdate().isoformat() != D.isoformat()
    assert FuhyoEntry.objects.get(pk=entry.pk).removed_on == D

    result = filings.file_birth(
        FilingHeader(filed_on=D),
        Newborn("山田", "蓮", "ヤマダ", "レン", D, "1"),
        KosekiPlace(koseki=KosekiFactory()),
        address_municipality=YOKOHAMA,
        address="中区1番",
    )
    (child,) = result.entries
    assert (child.entered_on, child.current_address().recorded_on) == (D, timezone.localdate())
    (jlis,) = [p for e in result.events for p in route(e) if p.kind == NoticeKind.JLIS_FUHYO]
    assert jlis.payload["recorded_on"] == timezone.localdate().isoformat()
