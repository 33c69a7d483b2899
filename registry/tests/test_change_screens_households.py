"""世帯主変更, 世帯分離 and 世帯合併 screens: form → 確認 → 記録, and refusals at the field."""

import pytest

from common.roles import RESIDENT_CLERK
from registry.choices import ChangeReason
from registry.models import Household, ResidentChange
from registry.tests.change_screens import counts, errors_of, family, login, record, snapshot, to_confirm
from registry.tests.factories import HouseholdFactory, ResidentFactory

pytestmark = pytest.mark.django_db
DATES = {"change_date": "R8.11.20", "notified_on": "R8.11.20"}


@pytest.fixture
def desk(client, clerk):
    return login(client, clerk, RESIDENT_CLERK)


def test_change_of_head(desk):
    head, wife, child = family()
    url = f"/changes/household-head/{head.household.pk}/"
    data = {"new_head": wife.pk, f"relationship_{head.pk}": "夫", f"relationship_{child.pk}": "子", **DATES}
    walk = to_confirm(desk, url, data)
    body = walk.confirm.content.decode()
    assert body.count("世帯主変更") >= 2  # one history row per member
    assert record(desk, url, walk.token).status_code == 302
    wife.refresh_from_db()
    head.refresh_from_db()
    assert (wife.relationship, head.relationship) == ("世帯主", "夫")


def test_change_of_head_needs_every_relationship(desk):
    head, wife, child = family()
    before, rows = snapshot(head, wife, child), counts()
    url = f"/changes/household-head/{head.household.pk}/"
    walk = to_confirm(desk, url, {"new_head": wife.pk, f"relationship_{head.pk}": "夫", **DATES}, expect_ok=False)
    body = walk.confirm.content.decode()
    message = "新しい世帯主との続柄を入力してください。"
    assert message in errors_of(walk.confirm)
    assert body.index(message) > body.index(f'id="id_relationship_{child.pk}"')  # at the child's 続柄
    assert (snapshot(head, wife, child), counts()) == (before, rows)


def test_split_household(desk):
    head, wife, child = family()
    url = f"/changes/split/{head.household.pk}/"
    walk = to_confirm(desk, url, {"residents": [child.pk], "new_head": child.pk, **DATES})
    assert record(desk, url, walk.token).status_code == 302
    child.refresh_from_db()
    assert child.household_id != head.household_id
    assert ResidentChange.objects.get(resident=child).reason == ChangeReason.HOUSEHOLD_SEPARATION


def test_split_of_every_member_is_refused(desk):
    head, wife, child = family()
    before = counts()
    url = f"/changes/split/{head.household.pk}/"
    data = {"residents": [head.pk, wife.pk, child.pk], "new_head": head.pk, **DATES}
    walk = to_confirm(desk, url, data, expect_ok=False)
    assert "世帯員全員が分離することはできません。" in errors_of(walk.confirm)
    assert counts() == before


def test_merge_households(desk):
    head, wife, child = family()
    other = ResidentFactory(household=HouseholdFactory(address=head.household.address), surname="鈴木")
    url = f"/changes/merge/{other.household.pk}/"
    data = {"target_household": head.household.number, f"relationship_{other.pk}": "同居人", **DATES}
    walk = to_confirm(desk, url, data)
    assert record(desk, url, walk.token).status_code == 302
    other.refresh_from_db()
    assert (other.household_id, other.relationship) == (head.household_id, "同居人")
    assert Household.objects.get(pk=other.household.pk).dissolved_on is None  # the target stays
    assert ResidentChange.objects.get(resident=other).reason == ChangeReason.HOUSEHOLD_MERGER


def test_merge_with_a_household_at_another_address_is_refused(desk):
    head, wife, child = family()
    other = ResidentFactory(household=HouseholdFactory(address="戸山一丁目1番"), surname="鈴木")
    before = counts()
    url = f"/changes/merge/{other.household.pk}/"
    data = {"target_household": head.household.number, f"relationship_{other.pk}": "同居人", **DATES}
    walk = to_confirm(desk, url, data, expect_ok=False)
    assert "住所の異なる世帯とは合併できません（転居として記録してください）。" in errors_of(walk.confirm)
    assert counts() == before
