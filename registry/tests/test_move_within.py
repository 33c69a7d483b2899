"""転居: whole 世帯, part of a 世帯 (new 世帯 / into another 世帯), the 附票 following for 本籍 in the ward."""

import datetime as dt

import pytest
from django.utils import timezone

from common.errors import ServiceError
from common.models import ChangeEvent
from koseki_fuhyo.tests.factories import link_to_koseki
from registry import services
from registry.choices import ChangeReason
from registry.models import Household, ResidentChange
from registry.services.entries import NewHousehold
from registry.tests.factories import HouseholdFactory, ResidentFactory

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


def test_whole_household_moves_keeping_number_and_relationships(as_clerk, family):
    head, wife, child = family
    old_number = head.household.number
    result = services.move_within(
        [head, wife, child], change_date=D, notified_on=D, new_address=NewHousehold("高田馬場一丁目2番3号", "コーポ201")
    )
    hh = Household.objects.get(pk=head.household_id)
    assert hh.number == old_number
    assert hh.address == "高田馬場一丁目2番3号"
    assert hh.katagaki == "コーポ201"
    for r in result.residents:
        r.refresh_from_db()
        assert r.address == "高田馬場一丁目2番3号"
        assert r.address_established_on == D
    change = ResidentChange.objects.get(resident=wife)
    assert change.reason == ChangeReason.MOVE_WITHIN
    assert change.previous_address.startswith("東京都新宿区西新宿")
    assert change.new_address == "東京都新宿区高田馬場一丁目2番3号　コーポ201"
    assert change.previous_head_name == change.new_head_name == "山田　太郎"


def test_member_moves_out_to_new_household(as_clerk, family):
    head, wife, child = family
    result = services.move_within(
        [child], change_date=D, notified_on=D, new_address=NewHousehold("四谷一丁目1番"), new_head=child
    )
    child.refresh_from_db()
    assert child.household != head.household
    assert child.relationship == "世帯主"
    assert child.household.address == "四谷一丁目1番"
    assert head.household.current_members().count() == 2
    assert len(result.changes) == 1


def test_head_moves_out_alone_leaving_two_needs_new_head_or_is_headless(as_clerk, family):
    head, wife, child = family
    services.move_within(
        [head],
        change_date=D,
        notified_on=D,
        new_address=NewHousehold("四谷一丁目1番"),
        new_head=head,
        remaining_head=wife,
        relationships={child.pk: "子"},
    )
    wife.refresh_from_db()
    child.refresh_from_db()
    assert wife.relationship == "世帯主"
    assert child.relationship == "子"
    assert wife.household.head == wife
    assert ResidentChange.objects.filter(resident=wife, reason=ChangeReason.HOUSEHOLD_HEAD_CHANGE).exists()


def test_move_into_another_household(as_clerk, family):
    head, wife, child = family
    other = ResidentFactory(household=HouseholdFactory(address="大久保一丁目1番"))
    services.move_within(
        [child], change_date=D, notified_on=D, target_household=other.household, relationships={child.pk: "同居人"}
    )
    child.refresh_from_db()
    assert child.household == other.household
    assert child.address == "大久保一丁目1番"
    assert child.relationship == "同居人"


def test_same_address_is_refused(as_clerk, family):
    head, wife, child = family
    with pytest.raises(ServiceError) as err:
        services.move_within(
            [head, wife, child], change_date=D, notified_on=D, new_address=NewHousehold(head.household.address)
        )
    assert "同じ" in str(err.value)
    assert not ResidentChange.objects.exists()


def test_removed_resident_cannot_move(as_clerk, family):
    head, wife, child = family
    services.death(child, date_of_death=D, notified_on=D)
    with pytest.raises(ServiceError):
        services.move_within(
            [child], change_date=D, notified_on=D, new_address=NewHousehold("四谷一丁目1番"), new_head=child
        )


def test_moving_resident_with_honseki_in_ward_moves_fuhyo_too(as_clerk, family):
    head, wife, child = family
    entry = link_to_koseki(head)
    services.move_within(
        [head, wife, child], change_date=D, notified_on=D, new_address=NewHousehold("高田馬場一丁目2番3号", "コーポ201")
    )
    current = entry.current_address()
    assert current.address == "高田馬場一丁目2番3号　コーポ201"
    assert current.established_on == D
    assert current.recorded_on == timezone.localdate()  # 記録日: the day it was written, not the 異動日
    assert ChangeEvent.objects.filter(kind=ChangeEvent.Kind.FUHYO_AMENDED, fuhyo_entry=entry).count() == 1
    from registry.consistency import iter_inconsistencies

    assert [str(i) for i in iter_inconsistencies() if i.resident_id == head.pk] == []


def test_fuhyo_not_moved_when_identity_differs(as_clerk, family):
    head, wife, child = family
    entry = link_to_koseki(head)
    entry.given_name_kana = "タロ"
    entry.save()
    services.move_within(
        [head, wife, child], change_date=D, notified_on=D, new_address=NewHousehold("高田馬場一丁目2番3号")
    )
    assert entry.addresses.count() == 1
    unmatched = ChangeEvent.objects.get(kind=ChangeEvent.Kind.FUHYO_UNMATCHED)
    assert unmatched.payload["differences"] == ["given_name_kana"]
