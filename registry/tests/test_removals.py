"""転出, 死亡, 職権消除: the 住民票 becomes a 除票, the 世帯 loses the person, history and events are written."""

import datetime as dt

import pytest

from common.errors import ServiceError
from common.models import ChangeEvent
from koseki_fuhyo.tests.factories import link_to_koseki
from registry import services
from registry.choices import ChangeReason, ResidentStatus
from registry.guards import RemovedRecordError
from registry.models import Household, Resident, ResidentChange
from registry.tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db
D = dt.date(2026, 11, 20)


@pytest.fixture
def family():
    head = ResidentFactory()
    wife = ResidentFactory(
        household=head.household, relationship="妻", given_name="花子", given_name_kana="ハナコ", sex="2"
    )
    child = ResidentFactory(
        household=head.household,
        relationship="子",
        given_name="一郎",
        given_name_kana="イチロウ",
        birth_date=dt.date(2010, 1, 1),
    )
    return head, wife, child


def test_move_out_removes_and_records_destination(as_clerk, family):
    head, wife, child = family
    services.move_out(
        [child],
        planned_date=dt.date(2026, 12, 5),
        notified_on=dt.date(2026, 11, 25),
        destination_municipality="141003",
        destination_address="中区本町一丁目1番",
    )
    child.refresh_from_db()
    assert child.status == ResidentStatus.REMOVED
    assert child.removed_on == dt.date(2026, 12, 5)
    assert child.removal_reason == ChangeReason.MOVE_OUT
    assert child.moved_to_municipality_id == "141003"
    change = ResidentChange.objects.get(resident=child)
    assert change.new_address == "神奈川県横浜市中区本町一丁目1番"
    assert change.change_class == "removal"
    assert ChangeEvent.objects.filter(kind=ChangeEvent.Kind.RESIDENT_REMOVED, resident=child).exists()


def test_move_out_planned_too_far_ahead_is_refused(as_clerk, family):
    head, wife, child = family
    with pytest.raises(ServiceError) as err:
        services.move_out(
            [child],
            planned_date=dt.date(2026, 12, 20),
            notified_on=dt.date(2026, 11, 25),
            destination_municipality="141003",
            destination_address="中区本町一丁目1番",
        )
    assert "14日以内" in str(err.value)
    child.refresh_from_db()
    assert child.status == ResidentStatus.CURRENT


def test_move_out_inside_ward_is_refused(as_clerk, family):
    with pytest.raises(ServiceError) as err:
        services.move_out(
            [family[2]], planned_date=D, notified_on=D, destination_municipality="131041", destination_address="四谷1番"
        )
    assert "転居" in str(err.value)


def test_whole_household_moving_out_dissolves_it(as_clerk, family):
    services.move_out(
        list(family),
        planned_date=D,
        notified_on=D,
        destination_municipality="141003",
        destination_address="中区本町一丁目1番",
    )
    assert Household.objects.get(pk=family[0].household_id).dissolved_on == D


def test_head_leaving_one_member_makes_that_member_head(as_clerk):
    head = ResidentFactory()
    wife = ResidentFactory(household=head.household, relationship="妻", given_name="花子", sex="2")
    services.move_out(
        [head], planned_date=D, notified_on=D, destination_municipality="141003", destination_address="中区1番"
    )
    wife.refresh_from_db()
    assert wife.relationship == "世帯主"
    assert ResidentChange.objects.filter(resident=wife, reason=ChangeReason.HOUSEHOLD_HEAD_CHANGE).exists()


def test_head_dying_leaving_two_leaves_household_without_head(as_clerk, family):
    head, wife, child = family
    services.death(head, date_of_death=D, notified_on=D)
    assert Household.objects.get(pk=head.household_id).head is None
    services.change_household_head(wife.household, wife, {child.pk: "子"}, change_date=D, notified_on=D)
    assert Household.objects.get(pk=head.household_id).head == wife


def test_move_out_abroad_records_abroad_on_fuhyo(as_clerk, family):
    head, wife, child = family
    entry = link_to_koseki(child)
    services.move_out([child], planned_date=D, notified_on=D, destination_country="フランス")
    child.refresh_from_db()
    assert child.removal_reason == ChangeReason.MOVE_OUT_ABROAD
    assert child.moved_to_country == "フランス"
    current = entry.current_address()
    assert current.is_abroad
    assert current.country == "フランス"
    assert current.established_on == D


def test_domestic_move_out_leaves_fuhyo_for_new_municipality_to_notify(as_clerk, family):
    entry = link_to_koseki(family[2])
    services.move_out(
        [family[2]], planned_date=D, notified_on=D, destination_municipality="141003", destination_address="中区1番"
    )
    assert entry.addresses.count() == 1


def test_removed_record_cannot_be_changed_except_by_statutory_correction(as_clerk, family):
    child = family[2]
    services.death(child, date_of_death=D, notified_on=D)
    child.refresh_from_db()
    child.given_name = "二郎"
    with pytest.raises(RemovedRecordError):
        child.save()
    services.ex_officio_amendment(
        child, {"given_name": "二郎", "given_name_kana": "ジロウ"}, change_date=D, note="誤記修正"
    )
    assert Resident.objects.get(pk=child.pk).given_name == "二郎"


def test_resident_cannot_be_deleted(family):
    with pytest.raises(RemovedRecordError):
        family[0].delete()


def test_ex_officio_removal(as_clerk, family):
    services.ex_officio_removal([family[2]], change_date=D, note="実態調査により居住の事実なし")
    assert ResidentChange.objects.get(resident=family[2]).reason == ChangeReason.EX_OFFICIO_REMOVAL


def test_move_out_confirmation_completes_removed_record(as_clerk, family):
    child = family[2]
    services.move_out(
        [child], planned_date=D, notified_on=D, destination_municipality="141003", destination_address="中区1番"
    )
    services.record_move_out_confirmation(
        child,
        confirmed_date=dt.date(2026, 11, 21),
        confirmed_address="神奈川県横浜市中区2番",
        notice_received_on=dt.date(2026, 11, 24),
    )
    child.refresh_from_db()
    assert child.move_out_confirmed_on == dt.date(2026, 11, 21)
    assert child.removed_on == D  # the planned value is kept beside the confirmed one
    with pytest.raises(ServiceError):
        services.record_move_out_confirmation(family[0], confirmed_date=D, confirmed_address="x", notice_received_on=D)
