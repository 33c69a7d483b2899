"""転入: a new 住民票 in a new or existing 世帯, its history row, its change event, and refusals that change nothing."""

import datetime as dt

import pytest

from common.errors import ServiceError
from common.juminhyo_codes import juminhyo_code_for
from common.models import ChangeEvent
from koseki_fuhyo.models import FuhyoAddress
from koseki_fuhyo.tests.factories import FuhyoEntryFactory, KosekiFactory
from registry import services
from registry.choices import ChangeReason, ResidentStatus
from registry.models import Household, Resident, ResidentChange
from registry.services.entries import NewHousehold
from registry.tests.factories import HouseholdFactory, ResidentFactory

pytestmark = pytest.mark.django_db

D = dt.date(2026, 11, 20)


def test_move_in_creates_household_resident_history_and_event(as_clerk, person, clerk):
    result = services.move_in(
        [
            person(),
            person(
                given_name="美咲", given_name_kana="みさき", sex="2", relationship="妻", birth_date=dt.date(1991, 3, 3)
            ),
        ],
        change_date=D,
        notified_on=dt.date(2026, 11, 24),
        previous_municipality="271004",
        previous_address="北区梅田二丁目2番2号",
        new_household=NewHousehold("西新宿二丁目8番1号", "ハイツ101"),
    )
    head, wife = result.residents
    assert head.household == wife.household
    assert head.household.head == head
    assert wife.given_name_kana == "ミサキ"  # hiragana folded
    assert head.address == "西新宿二丁目8番1号"
    assert head.katagaki == "ハイツ101"
    assert head.address_established_on == D
    assert head.became_resident_on == D
    assert head.previous_municipality.code == "271004"
    assert head.previous_address == "北区梅田二丁目2番2号"  # within the municipality, as `address` is within ours
    assert head.previous_address_text == "大阪府大阪市北区梅田二丁目2番2号"
    assert len(head.juminhyo_code) == 11
    change = ResidentChange.objects.get(resident=head)
    assert change.reason == ChangeReason.MOVE_IN
    assert change.change_class == "entry"
    assert change.notified_on == dt.date(2026, 11, 24)
    assert change.new_address == "東京都新宿区西新宿二丁目8番1号　ハイツ101"
    assert change.new_head_name == "佐藤　健太"
    assert change.recorded_by == clerk
    events = ChangeEvent.objects.filter(kind=ChangeEvent.Kind.RESIDENT_ENTERED)
    assert events.count() == 2
    assert events.first().payload["change"]["reason"] == "move_in"


def test_move_in_into_existing_household(as_clerk, person):
    head = ResidentFactory()
    result = services.move_in(
        [person(relationship="同居人")],
        change_date=D,
        notified_on=D,
        previous_municipality="271004",
        previous_address="北区1番",
        household=head.household,
    )
    assert result.residents[0].household == head.household
    assert result.residents[0].address == head.household.address


def test_move_in_refuses_second_head_and_changes_nothing(as_clerk, person):
    head = ResidentFactory()
    before = (Resident.objects.count(), ResidentChange.objects.count(), ChangeEvent.objects.count())
    with pytest.raises(ServiceError) as err:
        services.move_in(
            [person()],
            change_date=D,
            notified_on=D,
            previous_municipality="271004",
            previous_address="x",
            household=head.household,
        )
    assert "世帯主" in str(err.value)
    assert (Resident.objects.count(), ResidentChange.objects.count(), ChangeEvent.objects.count()) == before


@pytest.mark.parametrize(
    ("overrides", "kwargs", "field", "fragment"),
    [
        ({"surname_kana": "Sato"}, {}, "persons[0].surname_kana", "カナに使えない文字"),
        ({"surname": "Sato"}, {}, "persons[0].surname", "使えない文字"),
        ({"juminhyo_code": "12345678901"}, {}, "persons[0].juminhyo_code", "検査数字"),  # deliberately invalid
        ({"relationship": "孫"}, {}, "persons[0].relationship", "子の子"),
        ({"birth_date": dt.date(2026, 11, 21)}, {}, "persons[0].birth_date", "生年月日が異動年月日より後"),
        ({}, {"change_date": dt.date(2026, 11, 26), "notified_on": dt.date(2026, 11, 25)}, "change_date", "未来"),
        (
            {},
            {"change_date": dt.date(2026, 11, 24), "notified_on": dt.date(2026, 11, 23)},
            "change_date",
            "届出年月日より後",
        ),
        ({}, {"previous_municipality": "131041"}, "previous_municipality", "転居"),
        ({}, {"previous_municipality": "999997"}, "previous_municipality", "登録されていません"),  # valid, unknown
    ],
)
def test_move_in_refusals_name_the_field_and_change_nothing(as_clerk, person, overrides, kwargs, field, fragment):
    args = {
        "change_date": D,
        "notified_on": D,
        "previous_municipality": "271004",
        "previous_address": "北区1番",
        "new_household": NewHousehold("西新宿一丁目1番1号"),
    }
    args.update(kwargs)
    with pytest.raises(ServiceError) as err:
        services.move_in([person(**overrides)], **args)
    assert any(fragment in m for m in err.value.message_dict[field]), err.value.message_dict
    assert not Resident.objects.exists()
    assert not Household.objects.exists()
    assert not ChangeEvent.objects.exists()


def test_move_in_refuses_duplicate_current_code(as_clerk, person):
    existing = ResidentFactory()
    with pytest.raises(ServiceError) as err:
        services.move_in(
            [person(juminhyo_code=existing.juminhyo_code)],
            change_date=D,
            notified_on=D,
            previous_municipality="271004",
            previous_address="x",
            new_household=NewHousehold("西新宿一丁目1番1号"),
        )
    assert "二重登録" in str(err.value)


def test_move_in_of_person_with_honseki_in_ward_updates_fuhyo_in_same_transaction(as_clerk, person):
    koseki = KosekiFactory(honseki_address="北新宿一丁目1番", hittousha_surname="佐藤", hittousha_given_name="健太")
    entry = FuhyoEntryFactory(
        koseki=koseki,
        surname="佐藤",
        given_name="健太",
        surname_kana="サトウ",
        given_name_kana="ケンタ",
        birth_date=dt.date(1990, 1, 15),
        sex="1",
        juminhyo_code=juminhyo_code_for(1),
    )
    FuhyoAddress.objects.create(
        entry=entry,
        municipality_id="271004",
        address="北区梅田二丁目2番2号",
        established_on=dt.date(2015, 1, 1),
        recorded_on=dt.date(2015, 1, 5),
        reason="転居",
    )
    services.move_in(
        [person(juminhyo_code=juminhyo_code_for(1), honseki_municipality="131041", honseki_address="北新宿一丁目1番")],
        change_date=D,
        notified_on=D,
        previous_municipality="271004",
        previous_address="北区梅田二丁目2番2号",
        new_household=NewHousehold("西新宿二丁目8番1号"),
    )
    current = entry.current_address()
    assert current.municipality_id == "131041"
    assert current.address == "西新宿二丁目8番1号"
    assert current.established_on == D
    assert current.reason == "転入"  # the 異動事由 as a label, as every 附票 line says it
    assert entry.addresses.count() == 2
    assert ChangeEvent.objects.filter(kind=ChangeEvent.Kind.FUHYO_AMENDED, fuhyo_entry=entry).exists()


def test_move_in_with_honseki_in_ward_but_no_matching_fuhyo_waits_for_clerk(as_clerk, person):
    services.move_in(
        [person(honseki_municipality="131041", honseki_address="北新宿九丁目9番")],
        change_date=D,
        notified_on=D,
        previous_municipality="271004",
        previous_address="x",
        new_household=NewHousehold("西新宿二丁目8番1号"),
    )
    assert ChangeEvent.objects.filter(kind=ChangeEvent.Kind.FUHYO_UNMATCHED).count() == 1


def test_move_in_from_abroad(as_clerk, person):
    result = services.move_in(
        [person()],
        change_date=D,
        notified_on=D,
        previous_municipality=None,
        previous_address="アメリカ合衆国",
        new_household=NewHousehold("四谷一丁目1番"),
        from_abroad=True,
    )
    assert ResidentChange.objects.get(resident=result.residents[0]).reason == ChangeReason.MOVE_IN_FROM_ABROAD
    assert result.residents[0].status == ResidentStatus.CURRENT


def test_ex_officio_entry_requires_a_reason(as_clerk, person):
    with pytest.raises(ServiceError):
        services.ex_officio_entry([person()], change_date=D, new_household=NewHousehold("四谷一丁目1番"), note=" ")
    result = services.ex_officio_entry(
        [person()], change_date=D, new_household=NewHousehold("四谷一丁目1番"), note="実態調査により記載"
    )
    change = ResidentChange.objects.get(resident=result.residents[0])
    assert change.reason == ChangeReason.EX_OFFICIO_ENTRY
    assert change.notified_on is None


def test_birth_joins_household_with_new_code(as_clerk, person):
    head = ResidentFactory()
    result = services.birth(
        person(given_name="陽向", given_name_kana="ヒナタ", relationship="子", birth_date=dt.date(2026, 11, 1)),
        household=head.household,
        notified_on=dt.date(2026, 11, 10),
    )
    child = result.residents[0]
    assert child.address_established_on == dt.date(2026, 11, 1)
    assert ResidentChange.objects.get(resident=child).change_date == dt.date(2026, 11, 1)
    assert HouseholdFactory._meta.model.objects.count() == 1


def test_failure_half_way_leaves_nothing_behind(as_clerk, person, monkeypatch):
    """The service's transaction covers household, residents, history, events and the 附票: a crash after some of
    them were written leaves none of them."""
    calls = []

    def crash_on_second(resident, *args, **kwargs):
        calls.append(resident.pk)
        if len(calls) == 2:
            raise RuntimeError("simulated crash")
        return []

    monkeypatch.setattr("registry.services.entries.sync_from_resident", crash_on_second)
    with pytest.raises(RuntimeError):
        services.move_in(
            [person(), person(given_name="美咲", given_name_kana="ミサキ", sex="2", relationship="妻")],
            change_date=D,
            notified_on=D,
            previous_municipality="271004",
            previous_address="x",
            new_household=NewHousehold("西新宿二丁目8番1号"),
        )
    assert len(calls) == 2
    assert not Household.objects.exists()
    assert not Resident.objects.exists()
    assert not ResidentChange.objects.exists()
    assert not ChangeEvent.objects.exists()
