"""転出 (国外転出), 死亡 and 職権消除 screens: form → 確認 → 記録 (the 住民票 becomes a 除票), and refusals."""

import pytest

from common.roles import RESIDENT_CLERK
from registry.choices import ChangeReason, ResidentStatus
from registry.models import ResidentChange
from registry.tests.change_screens import counts, errors_of, family, login, record, snapshot, to_confirm

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, clerk):
    return login(client, clerk, RESIDENT_CLERK)


def test_move_out_of_one_member(desk):
    head, wife, child = family()
    url = f"/changes/move-out/{head.household.pk}/"
    data = {
        "residents": [child.pk],
        "destination_kind": "domestic",
        "destination_municipality": "横浜市",
        "destination_address": "中区本町一丁目1番",
        "change_date": "R8.12.1",  # a planned date after the 届出 is accepted
        "notified_on": "R8.11.24",
    }
    walk = to_confirm(desk, url, data)
    body = walk.confirm.content.decode()
    assert "消除（除票になります）" in body
    assert "神奈川県横浜市中区本町一丁目1番" in body
    assert record(desk, url, walk.token).status_code == 302
    child.refresh_from_db()
    assert (child.status, child.removal_reason) == (ResidentStatus.REMOVED, ChangeReason.MOVE_OUT)


def test_move_out_abroad_of_the_whole_household(desk):
    head, wife, child = family()
    url = f"/changes/move-out/{head.household.pk}/"
    data = {"residents": [head.pk, wife.pk, child.pk], "destination_kind": "abroad", "destination_country": "ドイツ"}
    data |= {"change_date": "R8.11.30", "notified_on": "R8.11.24"}
    walk = to_confirm(desk, url, data)
    assert "世帯の消滅" in walk.confirm.content.decode()
    assert record(desk, url, walk.token).status_code == 302
    assert ResidentChange.objects.filter(reason=ChangeReason.MOVE_OUT_ABROAD).count() == 3


def test_move_out_into_the_ward_is_refused_at_the_field(desk):
    head, wife, child = family()
    before, rows = snapshot(head, wife, child), counts()
    url = f"/changes/move-out/{head.household.pk}/"
    data = {"residents": [child.pk], "destination_kind": "domestic", "destination_municipality": "131041"}
    data |= {"destination_address": "四谷一丁目", "change_date": "R8.11.30", "notified_on": "R8.11.24"}
    walk = to_confirm(desk, url, data, expect_ok=False)
    assert "区内への異動は転出ではなく転居です。" in errors_of(walk.confirm)
    assert (snapshot(head, wife, child), counts()) == (before, rows)


def test_death_of_the_head_with_a_new_head(desk):
    head, wife, child = family()
    url = f"/changes/death/{head.pk}/"
    form = desk.get(url).content.decode()
    assert "山田　太郎" in form
    data = {
        "change_date": "R8.11.18",
        "notified_on": "R8.11.20",
        "remaining_head": wife.pk,
        f"relationship_{child.pk}": "子",
    }
    walk = to_confirm(desk, url, data)
    assert "世帯主" in walk.confirm.content.decode()
    assert record(desk, url, walk.token).status_code == 302
    head.refresh_from_db()
    wife.refresh_from_db()
    assert (head.status, head.removal_reason) == (ResidentStatus.REMOVED, ChangeReason.DEATH)
    assert wife.relationship == "世帯主"


def test_death_refused_for_a_future_date(desk):
    head, wife, child = family()
    before, rows = snapshot(head, wife, child), counts()
    url = f"/changes/death/{child.pk}/"
    walk = to_confirm(desk, url, {"change_date": "R9.1.1", "notified_on": "R8.11.20"}, expect_ok=False)
    assert "死亡年月日が未来の日付です（令和9年1月1日（2027-01-01）と読みました）。" in errors_of(walk.confirm)
    assert (snapshot(head, wife, child), counts()) == (before, rows)


def test_death_of_a_removed_person_is_not_found(desk):
    head, wife, child = family()
    walk = to_confirm(desk, f"/changes/death/{child.pk}/", {"change_date": "R8.11.18", "notified_on": "R8.11.20"})
    record(desk, f"/changes/death/{child.pk}/", walk.token)
    assert desk.get(f"/changes/death/{child.pk}/").status_code == 404


def test_ex_officio_removal(desk):
    head, wife, child = family()
    url = f"/changes/ex-officio-removal/{head.household.pk}/"
    walk = to_confirm(desk, url, {"residents": [child.pk], "change_date": "R8.11.20", "note": "実態調査により居住なし"})
    assert record(desk, url, walk.token).status_code == 302
    child.refresh_from_db()
    assert child.removal_reason == ChangeReason.EX_OFFICIO_REMOVAL


def test_ex_officio_removal_needs_a_reason(desk):
    head, wife, child = family()
    before = counts()
    url = f"/changes/ex-officio-removal/{head.household.pk}/"
    walk = to_confirm(desk, url, {"residents": [child.pk], "change_date": "R8.11.20", "note": ""}, expect_ok=False)
    body = walk.confirm.content.decode()
    assert body.index("field-error", body.index('id="id_note"')) > 0  # the message sits at the 備考 field
    assert "必須" in errors_of(walk.confirm)
    assert counts() == before
