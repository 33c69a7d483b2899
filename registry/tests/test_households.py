"""世帯主変更, 世帯分離, 世帯合併 and the one-head rule."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from common.errors import ServiceError
from registry import services
from registry.choices import ChangeReason
from registry.models import Household, ResidentChange
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
        birth_date=dt.date(2000, 1, 1),
    )
    return head, wife, child


def test_database_refuses_two_heads_in_one_household(family):
    head, wife, _ = family
    wife.relationship = "世帯主"
    with pytest.raises(IntegrityError), transaction.atomic():
        wife.save()


def test_change_household_head_rewrites_every_relationship(as_clerk, family):
    head, wife, child = family
    result = services.change_household_head(
        head.household, wife, {head.pk: "夫", child.pk: "子"}, change_date=D, notified_on=D
    )
    for r in (head, wife, child):
        r.refresh_from_db()
    assert (head.relationship, wife.relationship, child.relationship) == ("夫", "世帯主", "子")
    assert len(result.changes) == 3
    change = ResidentChange.objects.get(resident=head)
    assert change.reason == ChangeReason.HOUSEHOLD_HEAD_CHANGE
    assert change.details == {"relationship": ["世帯主", "夫"]}
    assert change.previous_head_name == "山田　太郎"
    assert change.new_head_name == "山田　花子"


def test_change_household_head_needs_every_relationship(as_clerk, family):
    head, wife, child = family
    with pytest.raises(ServiceError) as err:
        services.change_household_head(head.household, wife, {head.pk: "夫"}, change_date=D, notified_on=D)
    assert f"relationships[{child.pk}]" in err.value.message_dict
    head.refresh_from_db()
    assert head.relationship == "世帯主"


def test_split_household(as_clerk, family):
    head, wife, child = family
    services.split_household(head.household, [child], child, {}, change_date=D, notified_on=D)
    child.refresh_from_db()
    assert child.household != head.household
    assert child.relationship == "世帯主"
    assert child.household.address == head.household.address
    assert ResidentChange.objects.get(resident=child).reason == ChangeReason.HOUSEHOLD_SEPARATION


def test_split_of_everyone_is_refused(as_clerk, family):
    head, wife, child = family
    with pytest.raises(ServiceError):
        services.split_household(
            head.household, [head, wife, child], head, {wife.pk: "妻", child.pk: "子"}, change_date=D, notified_on=D
        )
    assert Household.objects.count() == 1


def test_merge_households(as_clerk, family):
    head, wife, child = family
    other = ResidentFactory(household=HouseholdFactory(address=head.household.address), given_name="次郎")
    services.merge_households(other.household, head.household, {other.pk: "同居人"}, change_date=D, notified_on=D)
    other.refresh_from_db()
    assert other.household == head.household
    assert other.relationship == "同居人"
    assert Household.objects.get(number=other.household.number).current_members().count() == 4
    dissolved = Household.objects.exclude(pk=head.household_id).get()
    assert dissolved.dissolved_on == D


def test_merge_across_addresses_is_refused(as_clerk, family):
    other = ResidentFactory(household=HouseholdFactory(address="四谷1番"))
    with pytest.raises(ServiceError) as err:
        services.merge_households(
            other.household, family[0].household, {other.pk: "同居人"}, change_date=D, notified_on=D
        )
    assert "転居" in str(err.value)
