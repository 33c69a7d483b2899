"""転入 (国外転入), 出生 and 職権記載 screens: form → 確認 → 記録, and a refusal at the field with nothing changed."""

import pytest

from common.roles import RESIDENT_CLERK
from registry.choices import ChangeReason, ResidentStatus
from registry.models import Household, Resident, ResidentChange
from registry.tests.change_screens import counts, errors_of, family, login, record, to_confirm

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, clerk):
    return login(client, clerk, RESIDENT_CLERK)


def person(index: int, **values) -> dict:
    base = {
        "surname": "佐藤",
        "given_name": "健太",
        "surname_kana": "さとう",  # hiragana is folded to katakana
        "given_name_kana": "ｹﾝﾀ",  # and so is half-width
        "birth_date": "H2.1.15",
        "sex": "1",
        "relationship": "世帯主",
        "honseki_municipality": "大阪市",
        "honseki_address": "北区梅田一丁目1番",
        "hittousha_name": "佐藤　健太",
    }
    base.update(values)
    return {f"p-{index}-{k}": v for k, v in base.items()}


# A 転入 from 渋谷区 into a new 世帯 (the 住所・届出 part of the form).
MOVE_IN = {
    "previous_municipality": "131130",
    "previous_address": "神南一丁目1番",
    "destination": "new",
    "address": "大久保二丁目3番4号",
    "change_date": "R8.11.20",
    "notified_on": "R8.11.24",
}


def management(total: int = 4) -> dict:
    return {"p-TOTAL_FORMS": str(total), "p-INITIAL_FORMS": "0", "p-MIN_NUM_FORMS": "1", "p-MAX_NUM_FORMS": "10"}


def test_move_in_of_two_persons_into_a_new_household(desk):
    data = {
        **management(),
        **person(0),
        **person(1, given_name="美咲", given_name_kana="ミサキ", sex="2", relationship="妻", birth_date="1991-03-03"),
        **MOVE_IN,
    }
    walk = to_confirm(desk, "/changes/move-in/", data)
    body = walk.confirm.content.decode()
    assert "サトウ" in body  # the folded カナ, as it will be stored
    assert "平成2年1月15日（1990-01-15）" in body
    assert "（記録時に付番）" in body  # 住民票コード and 世帯番号 are drawn when recording
    assert not Resident.objects.exists()
    done = record(desk, "/changes/move-in/", walk.token)
    assert done.status_code == 302
    kenta, misaki = Resident.objects.order_by("id")
    assert (kenta.surname_kana, kenta.given_name_kana, misaki.relationship) == ("サトウ", "ケンタ", "妻")
    assert kenta.household_id == misaki.household_id
    assert ResidentChange.objects.filter(reason=ChangeReason.MOVE_IN).count() == 2


def test_move_in_from_abroad_into_an_existing_household(desk):
    head, wife, child = family()
    url = f"/changes/move-in/?household={head.household.pk}"
    assert head.household.number in desk.get(url).content.decode()  # the 世帯 is filled in
    data = {
        **management(),
        **person(0, relationship="妻の母", surname="山田", surname_kana="ヤマダ"),
        "from_abroad": "on",
        "previous_address": "アメリカ合衆国",
        "destination": "existing",
        "target_household": head.household.number,
        "change_date": "R8.11.20",
        "notified_on": "R8.11.20",
    }
    walk = to_confirm(desk, url, data)
    assert record(desk, url, walk.token).status_code == 302
    change = ResidentChange.objects.get(reason=ChangeReason.MOVE_IN_FROM_ABROAD)
    assert change.resident.household_id == head.household_id


def test_move_in_refused_without_previous_municipality_changes_nothing(desk):
    before = counts()
    data = {**management(), **person(0), "destination": "new", "address": "大久保二丁目3番4号"}
    data |= {"change_date": "R8.11.20", "notified_on": "R8.11.24"}
    walk = to_confirm(desk, "/changes/move-in/", data, expect_ok=False)
    assert "市区町村を指定してください。" in errors_of(walk.confirm)
    assert counts() == before


def test_move_in_refusal_of_a_person_row_is_shown_on_that_row(desk):
    data = {**management(), **person(0, relationship="孫"), "previous_municipality": "渋谷区"}
    data |= {
        "destination": "new",
        "address": "大久保二丁目3番4号",
        "change_date": "R8.11.20",
        "notified_on": "R8.11.24",
    }
    walk = to_confirm(desk, "/changes/move-in/", data, expect_ok=False)
    assert "続柄に「孫」は使えません。「子の子」と記載してください。" in errors_of(walk.confirm)
    assert not Resident.objects.exists()


def test_birth_into_the_household(desk):
    head, wife, child = family()
    url = f"/changes/birth/{head.household.pk}/"
    form = desk.get(url).content.decode()
    assert 'value="山田"' in form  # the 氏 of the 世帯主 is offered
    data = {
        "surname": "山田",
        "given_name": "陽向",
        "surname_kana": "ヤマダ",
        "given_name_kana": "ひなた",
        "change_date": "R8.11.10",
        "sex": "2",
        "relationship": "子",
        "honseki_municipality": "131130",
        "honseki_address": "神南一丁目1番",
        "hittousha_name": "山田　一夫",
        "notified_on": "R8.11.20",
    }
    walk = to_confirm(desk, url, data)
    assert "令和8年11月10日（2026-11-10）" in walk.confirm.content.decode()
    assert record(desk, url, walk.token).status_code == 302
    baby = Resident.objects.get(given_name="陽向")
    assert (baby.household_id, baby.birth_date.isoformat()) == (head.household_id, "2026-11-10")
    assert ResidentChange.objects.get(resident=baby).reason == ChangeReason.BIRTH


def test_birth_refused_for_a_future_date(desk):
    head, wife, child = family()
    before = counts()
    url = f"/changes/birth/{head.household.pk}/"
    data = {"surname": "山田", "given_name": "陽向", "surname_kana": "ヤマダ", "given_name_kana": "ヒナタ"}
    data |= {"change_date": "R8.12.10", "sex": "2", "relationship": "子", "notified_on": "R8.11.20"}
    walk = to_confirm(desk, url, data, expect_ok=False)
    assert "生年月日が未来の日付です（令和8年12月10日（2026-12-10）と読みました）。" in errors_of(walk.confirm)
    assert counts() == before


def test_ex_officio_entry(desk):
    data = {**management(), **person(0), "destination": "new", "address": "百人町一丁目1番"}
    data |= {"change_date": "R8.11.20", "note": "実態調査により記載"}
    walk = to_confirm(desk, "/changes/ex-officio-entry/", data)
    assert record(desk, "/changes/ex-officio-entry/", walk.token).status_code == 302
    change = ResidentChange.objects.get()
    assert (change.reason, change.note, change.notified_on) == (
        ChangeReason.EX_OFFICIO_ENTRY,
        "実態調査により記載",
        None,
    )


def test_ex_officio_entry_refuses_a_code_already_in_use(desk):
    head, wife, child = family()
    before = counts()
    data = {**management(), **person(0, juminhyo_code=head.juminhyo_code), "destination": "new"}
    data |= {"address": "百人町一丁目1番", "change_date": "R8.11.20", "note": "実態調査"}
    walk = to_confirm(desk, "/changes/ex-officio-entry/", data, expect_ok=False)
    assert "この住民票コードの住民票がすでにあります（二重登録のおそれ）。" in errors_of(walk.confirm)
    assert counts() == before
    assert Household.objects.count() == 1
    assert Resident.objects.filter(status=ResidentStatus.CURRENT).count() == 3


@pytest.mark.parametrize(
    ("total", "message"),
    [
        ("abc", "入力欄の数が正しくありません"),
        ("", "入力欄の数が正しくありません"),
        ("1\x00", "入力欄の数が正しくありません"),
        ("-1", "少なくとも 1 人を入力してください"),
        ("99999999999999999999", "一度に入力できるのは 10 人までです"),
    ],
)
def test_move_in_with_a_broken_persons_count_is_refused_in_japanese_and_changes_nothing(desk, total, message):
    """Issue 12, finding 10: a non-numeric p-TOTAL_FORMS with an otherwise valid input was a 500 (IndexError in
    focus_first: the formset had no forms)."""
    before = counts()
    data = {
        **management(),
        "p-TOTAL_FORMS": total,
        **person(0),
        **MOVE_IN,
    }
    walk = to_confirm(desk, "/changes/move-in/", data, expect_ok=False)
    assert walk.confirm.status_code == 200
    assert message in errors_of(walk.confirm)
    if not total.isdigit() and not total.startswith("-"):
        assert 'name="p-0-surname"' in walk.confirm.content.decode()  # the person rows are offered again
    assert counts() == before
