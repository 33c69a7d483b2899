"""戸籍届出 screens refusing: the service's messages at the field with nothing changed; persons not found or
restricted; the same 届出 never recorded twice; a resident being edited by another clerk is locked."""

import datetime as dt

import pytest
from django.test import Client

from audit import restrictions
from common.juminhyo_codes import juminhyo_code_for
from common.roles import KOSEKI_CLERK, RESIDENT_CLERK
from koseki_fuhyo.models import KosekiFiling
from koseki_fuhyo.tests.factories import KosekiFactory, link_to_koseki
from registry.tests.change_screens import counts, errors_of, login, record, snapshot, to_confirm
from registry.tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db
HEADER = {"filed_on": "R8.11.20", "ward_role": "honsekichi"}


@pytest.fixture
def desk(client, koseki_clerk):
    return login(client, koseki_clerk, KOSEKI_CLERK)


@pytest.fixture
def couple():
    head = ResidentFactory()
    wife = ResidentFactory(
        household=head.household, relationship="妻", given_name="花子", given_name_kana="ハナコ", sex="2"
    )
    koseki = KosekiFactory(hittousha_surname="山田", hittousha_given_name="太郎")
    link_to_koseki(head, koseki)
    link_to_koseki(wife, koseki)
    head.refresh_from_db()
    wife.refresh_from_db()
    return head, wife, koseki


def marriage(husband, wife, **extra):
    return {
        **HEADER,
        "husband_code": husband.juminhyo_code,
        "wife_code": wife.juminhyo_code,
        "surname_from": "husband",
        "place": "new",
        "honseki_municipality": "131041",
        "honseki_address": "西新宿三丁目3番",
        **extra,
    }


def test_a_refused_marriage_shows_the_message_at_the_field_and_changes_nothing(desk):
    husband, wife = ResidentFactory(surname="佐藤"), ResidentFactory(surname="高橋", sex="2")
    before, rows = snapshot(husband, wife), counts()
    walk = to_confirm(desk, "/filings/marriage/", marriage(husband, wife, honseki_address=""), expect_ok=False)
    body = walk.confirm.content.decode()
    assert "新しい本籍の地番を入力してください。" in errors_of(walk.confirm)
    assert body.index("新しい本籍の地番を入力してください。") > body.index('id="id_honseki_address"')
    assert (snapshot(husband, wife), counts()) == (before, rows)


def test_a_death_after_the_filing_date_is_refused(desk, couple):
    head, wife, koseki = couple
    before = counts()
    data = {**HEADER, "subject_code": wife.juminhyo_code, "date_of_death": "R8.11.21"}
    walk = to_confirm(desk, "/filings/death/", data, expect_ok=False)
    assert "死亡（失踪・喪失）の日が届出の受理日より後になっています。" in errors_of(walk.confirm)
    assert counts() == before


def test_an_unknown_code_is_refused_at_the_person(desk):
    data = {**HEADER, "subject_code": juminhyo_code_for(1), "date_of_death": "R8.11.18"}  # valid, nobody's
    walk = to_confirm(desk, "/filings/death/", data, expect_ok=False)
    assert "この住民票コードの人は区の戸籍にも住民票にもありません。" in errors_of(walk.confirm)


def test_a_restricted_person_needs_a_grant(desk, couple, django_user_model):
    head, wife, koseki = couple
    boss = django_user_model.objects.create_user(username="boss", password="x-for-tests-only")
    restrictions.restrict(
        actor=boss, kind="dv_support", reason="支援措置", starts_on=dt.date(2026, 11, 1), resident=wife
    )
    data = {**HEADER, "subject_code": wife.juminhyo_code, "surname_kana": "ヤマダ", "given_name_kana": "ハナ"}
    walk = to_confirm(desk, "/filings/furigana/", data, expect_ok=False)
    assert "閲覧制限のある人です。" in errors_of(walk.confirm)
    page = desk.get(f"/filings/furigana/?koseki={koseki.pk}").content.decode()
    assert "花子" not in page  # not offered among the 戸籍's members


def test_the_same_filing_is_recorded_once(desk):
    husband, wife = ResidentFactory(surname="佐藤"), ResidentFactory(surname="高橋", sex="2")
    walk = to_confirm(desk, "/filings/marriage/", marriage(husband, wife))
    assert record(desk, "/filings/marriage/", walk.token).status_code == 302
    again = record(desk, "/filings/marriage/", walk.token)
    assert again.status_code == 409
    assert "この入力はすでに記録されています" in again.content.decode()
    assert KosekiFiling.objects.count() == 1


def test_a_resident_edited_at_the_counter_is_locked_for_the_filing(desk, couple, clerk):
    head, wife, koseki = couple
    counter = login(Client(), clerk, RESIDENT_CLERK)
    assert counter.get(f"/changes/amend/{wife.pk}/").status_code == 200
    counter.post(f"/changes/amend/{wife.pk}/", {"step": "confirm"})  # the first POST takes the lock
    data = {**HEADER, "subject_code": wife.juminhyo_code, "surname_kana": "ヤマダ", "given_name_kana": "ハナ"}
    walk = to_confirm(desk, "/filings/furigana/", data, expect_ok=False)
    assert walk.confirm.status_code == 409
    assert "この住民票は窓口さんが編集中です" in walk.confirm.content.decode()
    assert not KosekiFiling.objects.exists()


def test_the_filing_screens_need_the_filing_permission(client, clerk):
    login(client, clerk, RESIDENT_CLERK)
    assert client.get("/filings/marriage/").status_code == 403
    assert client.get("/filings/").status_code == 403
