"""転居 screen: the three shapes through form → 確認 → 記録, a refusal shown at the field, the checkboxes."""

import re

import pytest

from common.roles import RESIDENT_CLERK
from registry.choices import ChangeReason
from registry.models import Household, ResidentChange
from registry.tests.change_screens import counts, errors_of, family, login, record, snapshot, to_confirm
from registry.tests.factories import HouseholdFactory, ResidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, clerk):
    return login(client, clerk, RESIDENT_CLERK)


def url_for(household):
    return f"/changes/move-within/{household.pk}/"


DATES = {"change_date": "R8.11.20", "notified_on": "2026-11-24"}


def test_whole_household_moves_through_the_confirm_screen(desk):
    head, wife, child = family()
    url = url_for(head.household)
    walk = to_confirm(
        desk,
        url,
        {
            "residents": [head.pk, wife.pk, child.pk],
            "destination": "new_address",
            "address": "高田馬場一丁目2番3号",
            "katagaki": "コーポ201",
            **DATES,
        },
    )
    body = walk.confirm.content.decode()
    assert "西新宿二丁目" in body  # before
    assert "高田馬場一丁目2番3号" in body  # after
    assert "令和8年11月20日（2026-11-20）" in body
    assert not ResidentChange.objects.exists()  # the 確認 screen recorded nothing
    done = record(desk, url, walk.token)
    assert done.status_code == 302
    assert ResidentChange.objects.filter(reason=ChangeReason.MOVE_WITHIN).count() == 3
    head.refresh_from_db()
    assert head.address == "高田馬場一丁目2番3号"
    follow = desk.get(done.url)
    assert "転居を記録しました（3人）。" in follow.content.decode()


def test_a_member_moves_to_a_new_household(desk):
    head, wife, child = family()
    url = url_for(head.household) + f"?resident={child.pk}"
    form = desk.get(url).content.decode()

    def box(resident) -> str:
        return re.search(rf'<input type="checkbox" name="residents" value="{resident.pk}"[^>]*>', form).group(0)

    assert "checked" in box(child)  # preselected from the 住民票
    assert "checked" not in box(head)
    walk = to_confirm(
        desk,
        url,
        {
            "residents": [child.pk],
            "destination": "new_address",
            "address": "四谷一丁目1番",
            "new_head": child.pk,
            **DATES,
        },
    )
    assert "（記録時に付番）" in walk.confirm.content.decode()  # the new 世帯番号 is drawn when recording
    assert record(desk, url, walk.token).status_code == 302
    child.refresh_from_db()
    assert child.household_id != head.household_id
    assert child.relationship == "世帯主"


def test_members_join_another_household(desk):
    head, wife, child = family()
    other = ResidentFactory(household=HouseholdFactory(address="戸山三丁目1番"), surname="鈴木", surname_kana="スズキ")
    url = url_for(head.household)
    walk = to_confirm(
        desk,
        url,
        {
            "residents": [child.pk],
            "destination": "household",
            "target_household": other.household.number,
            f"relationship_{child.pk}": "縁故者",
            **DATES,
        },
    )
    assert record(desk, url, walk.token).status_code == 302
    child.refresh_from_db()
    assert (child.household_id, child.relationship, child.address) == (other.household_id, "縁故者", "戸山三丁目1番")


def test_refusal_is_shown_next_to_the_field_and_nothing_changes(desk):
    head, wife, child = family()
    before, rows = snapshot(head, wife, child, head.household), counts()
    url = url_for(head.household)
    walk = to_confirm(
        desk,
        url,
        {"residents": [head.pk, wife.pk, child.pk], "destination": "new_address", "address": head.address, **DATES},
        expect_ok=False,
    )
    assert walk.confirm.status_code == 200
    body = walk.confirm.content.decode()
    assert 'name="token"' not in body  # still the form, no 確認
    assert "新しい住所が今までの住所と同じです。" in errors_of(walk.confirm)
    assert body.index("新しい住所が今までの住所と同じです。") > body.index('id="id_address"')  # right after its field
    assert (snapshot(head, wife, child, head.household), counts()) == (before, rows)


def test_form_errors_for_a_missing_destination_household(desk):
    head, wife, child = family()
    url = url_for(head.household)
    walk = to_confirm(
        desk,
        url,
        {"residents": [child.pk], "destination": "household", "target_household": "99999999", **DATES},
        expect_ok=False,
    )
    assert "世帯番号 99999999 の世帯はありません。" in errors_of(walk.confirm)
    assert Household.objects.count() == 1
