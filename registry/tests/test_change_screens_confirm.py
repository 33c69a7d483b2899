"""The 確認 screen shows exactly what the service will do (before → after per person and item) and writes nothing;
記録 re-checks it; every request goes through the gate and names the persons shown."""

import datetime as dt
import re

import pytest

from audit import restrictions
from audit.models import AuditLogEntry
from common.roles import RESIDENT_CLERK
from common.testing.actors import acting_as
from registry import services
from registry.models import EditLock, ResidentChange
from registry.tests.change_screens import counts, family, hidden, login, record, to_confirm

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, clerk):
    return login(client, clerk, RESIDENT_CLERK)


def move_data(*members, **extra):
    return {
        "residents": [m.pk for m in members],
        "destination": "new_address",
        "address": "高田馬場一丁目2番3号",
        "change_date": "R8.11.20",
        "notified_on": "R8.11.20",
        **extra,
    }


def test_confirm_shows_before_and_after_per_person_and_writes_nothing(desk):
    head, wife, child = family()
    before = counts()
    walk = to_confirm(desk, f"/changes/move-within/{head.household.pk}/", move_data(head, wife, child))
    body = walk.confirm.content.decode()
    for name in ("山田　太郎", "山田　花子", "山田　一郎"):
        assert name in body
    row = body[body.index('<th scope="row">住所</th>') :][:300]
    assert "西新宿二丁目" in row  # 変更前
    assert "高田馬場一丁目2番3号" in row  # 変更後
    assert "住所を定めた年月日" in body
    assert counts() == before  # the preview was rolled back


def test_record_shows_a_fresh_confirm_when_the_outcome_changed_meanwhile(desk, clerk):
    head, wife, child = family()
    url = f"/changes/move-within/{head.household.pk}/"
    walk = to_confirm(desk, url, move_data(wife, child, new_head=wife.pk, **{f"relationship_{child.pk}": "子"}))
    with acting_as(clerk):  # the 世帯主's name is corrected in between (another path)
        services.ex_officio_amendment(head, {"given_name": "大輔"}, change_date=dt.date(2026, 11, 20), note="誤記")
    changes = ResidentChange.objects.count()
    answer = record(desk, url, walk.token)
    assert answer.status_code == 200
    body = answer.content.decode()
    assert "確認の後に記録の内容が変わりました" in body
    assert "山田　大輔" in body  # the new 確認 shows what will now be recorded
    assert ResidentChange.objects.count() == changes  # nothing recorded
    assert record(desk, url, hidden(answer, "token")).status_code == 302


def test_each_step_writes_one_access_entry_naming_the_persons(desk):
    head, wife, child = family()
    url = f"/changes/move-within/{head.household.pk}/"
    mark = AuditLogEntry.objects.filter(category="access").count()
    walk = to_confirm(desk, url, move_data(head, wife, child))
    record(desk, url, walk.token)
    entries = list(AuditLogEntry.objects.filter(category="access").order_by("id")[mark:])
    assert [(e.action, e.outcome, e.method) for e in entries] == [
        ("moves.move_within", "shown", "GET"),
        ("moves.move_within", "shown", "POST"),
        ("moves.move_within", "shown", "POST"),
    ]
    for entry in entries:
        assert set(entry.subject_ids) == {head.pk, wife.pk, child.pk}


def test_a_restricted_member_makes_the_household_screen_404_without_a_grant(desk, django_user_model):
    head, wife, child = family()
    supervisor = django_user_model.objects.create_user(username="boss", password="x-for-tests-only")
    restrictions.restrict(
        actor=supervisor, kind="dv_support", reason="支援措置", starts_on=dt.date(2026, 11, 1), resident=wife
    )
    answer = desk.get(f"/changes/move-within/{head.household.pk}/")
    assert answer.status_code == 404
    denied = AuditLogEntry.objects.filter(category="access").order_by("-id").first()
    assert (denied.outcome, denied.subject_ids) == ("denied", [wife.pk])
    assert not EditLock.objects.exists()


def test_without_the_permission_the_screen_is_refused(client, django_user_model):
    head, wife, child = family()
    viewer = django_user_model.objects.create_user(username="viewer", password="x-for-tests-only")
    client.force_login(viewer)
    assert client.get(f"/changes/move-within/{head.household.pk}/").status_code == 403
    assert client.get("/changes/").status_code == 403
    client.logout()
    assert client.get(f"/changes/move-within/{head.household.pk}/").status_code == 302  # to the login page


def test_cancel_releases_the_locks_and_changes_nothing(desk):
    head, wife, child = family()
    url = f"/changes/move-within/{head.household.pk}/"
    walk = to_confirm(desk, url, move_data(head, wife, child))
    assert EditLock.objects.count() == 4  # the 世帯 and its three members
    before = counts()
    answer = desk.post(url, {"token": walk.token, "step": "cancel"})
    assert answer.status_code == 302
    assert not EditLock.objects.exists()
    assert counts() == before


def test_the_menu_lists_every_kind_and_finds_the_household(desk):
    head, wife, child = family()
    menu = desk.get("/changes/").content.decode()
    for label in (
        "転入",
        "出生",
        "職権記載",
        "転居",
        "世帯主変更",
        "世帯分離",
        "世帯合併",
        "職権修正",
        "転出",
        "死亡",
        "職権消除",
    ):
        assert label in menu
    found = desk.get(f"/changes/find/move_within/?q={child.juminhyo_code}")
    assert found.status_code == 302
    assert found.url == f"/changes/move-within/{head.household.pk}/?resident={child.pk}"
    assert desk.get(f"/changes/find/death/?q={child.juminhyo_code}").url == f"/changes/death/{child.pk}/"
    assert desk.get(f"/changes/find/split_household/?q={head.household.number}").status_code == 302
    assert desk.get("/changes/find/move_within/?q=12345").status_code == 404


def test_keyboard_first_field_focused_enter_confirms_accesskeys(desk):
    head, wife, child = family()
    url = f"/changes/move-within/{head.household.pk}/"
    form = desk.get(url).content.decode()
    buttons = re.findall(r"<button [^>]*>", form[form.index('class="entry-form"') :])
    assert 'value="confirm"' in buttons[0]  # the first submit button: Enter in a field confirms
    assert 'accesskey="c"' in buttons[0]
    assert 'accesskey="q"' in buttons[1]
    assert form.count("autofocus") == 1
    walk = to_confirm(desk, url, move_data(head, wife, child, address=""), expect_ok=False)
    errored = re.search(r'<input type="text" name="address"[^>]*>', walk.confirm.content.decode()).group(0)
    assert "autofocus" in errored  # the cursor goes to the field in error
    walk = to_confirm(desk, url, move_data(head, wife, child))
    confirm = walk.confirm.content.decode()
    record_button = re.search(r'<button [^>]*value="record"[^>]*>', confirm).group(0)
    assert 'accesskey="g"' in record_button
    assert "autofocus" in record_button  # Enter records
    assert 'accesskey="b"' in confirm
