"""転居 screen: form → 確認 (before → after) → 記録, its refusals, and starting from a 世帯 with checkboxes."""

import datetime as dt

import pytest

from common.roles import RESIDENT_CLERK
from registry.choices import ChangeReason
from registry.models import ResidentChange
from registry.tests.change_screens import login, record, to_confirm
from registry.tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db


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


@pytest.fixture
def desk(client, clerk):
    return login(client, clerk, RESIDENT_CLERK)


def url_for(household):
    return f"/changes/move-within/{household.pk}/"


def test_whole_household_moves_through_the_confirm_screen(desk, family):
    head, wife, child = family
    url = url_for(head.household)
    walk = to_confirm(
        desk,
        url,
        {
            "residents": [head.pk, wife.pk, child.pk],
            "destination": "new_address",
            "address": "高田馬場一丁目2番3号",
            "katagaki": "コーポ201",
            "change_date": "R8.11.20",
            "notified_on": "2026-11-24",
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
