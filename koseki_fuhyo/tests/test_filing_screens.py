"""戸籍届出 screens (届出受付): for each group of 届出 a happy path through 確認 and 記録, with the 戸籍, the 附票 and
the 住民票 kept consistent."""

import datetime as dt

import pytest

from common.roles import KOSEKI_CLERK
from koseki_fuhyo.choices import EntryStatus, FilingKind, KosekiStatus
from koseki_fuhyo.models import FuhyoEntry, Koseki, KosekiFiling
from koseki_fuhyo.tests.factories import KosekiFactory, link_to_koseki
from registry.choices import ChangeReason, ResidentStatus
from registry.consistency import iter_inconsistencies
from registry.models import Resident, ResidentChange
from registry.tests.change_screens import login, record, to_confirm
from registry.tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db
HEADER = {"filed_on": "R8.11.20", "ward_role": "honsekichi"}


@pytest.fixture
def desk(client, koseki_clerk):
    return login(client, koseki_clerk, KOSEKI_CLERK)


@pytest.fixture
def couple():
    """山田太郎 (世帯主, 筆頭者) and 花子 (妻) live in the ward; their 戸籍 is in the ward."""
    head = ResidentFactory()
    wife = ResidentFactory(
        household=head.household,
        relationship="妻",
        given_name="花子",
        given_name_kana="ハナコ",
        sex="2",
        birth_date=dt.date(1982, 2, 2),
    )
    koseki = KosekiFactory(hittousha_surname="山田", hittousha_given_name="太郎", honseki_address="北新宿一丁目1番")
    link_to_koseki(head, koseki)
    link_to_koseki(wife, koseki)
    head.refresh_from_db()
    wife.refresh_from_db()
    return head, wife, koseki


def consistent() -> bool:
    return [str(i) for i in iter_inconsistencies()] == []


def file(desk, kind: str, data: dict, query: str = ""):
    url = f"/filings/{kind}/{query}"
    walk = to_confirm(desk, url, {**HEADER, **data})
    done = record(desk, url, walk.token)
    assert done.status_code == 302, done.content.decode()[:2000]
    page = desk.get(done.url)
    assert page.status_code == 200
    return walk, page


def test_menu_lists_every_kind_in_its_group(desk):
    body = desk.get("/filings/").content.decode()
    for group in (
        "出生",
        "死亡・失踪・国籍喪失",
        "婚姻",
        "入除籍を伴う届",
        "転籍",
        "氏・名・振り仮名の変更",
        "帰化・国籍取得・就籍",
        "記録のみの届",
    ):
        assert f"<h2>{group}</h2>" in body
    for kind in FilingKind.values:
        assert f'href="/filings/{kind}/"' in body


def test_birth_into_the_parents_koseki_and_household(desk, couple):
    head, wife, koseki = couple
    data = {
        "surname": "山田",
        "given_name": "陽向",
        "surname_kana": "やまだ",
        "given_name_kana": "ひなた",
        "birth_date": "R8.11.10",
        "sex": "2",
        "place": "existing",
        "koseki": f"#{koseki.pk}",
        "residence": "household",
        "household": head.household.number,
        "relationship": "子",
        "father_entry": str(koseki.entries.get(given_name="太郎").pk),
    }
    walk, page = file(desk, "birth", data, f"?koseki={koseki.pk}")
    assert "（記録時に付番）" in walk.confirm.content.decode()  # the child's 住民票コード
    child = Resident.objects.get(given_name="陽向")
    entry = FuhyoEntry.objects.get(given_name="陽向")
    assert (child.juminhyo_code, child.household_id, child.surname_kana) == (
        entry.juminhyo_code,
        head.household_id,
        "ヤマダ",
    )
    assert ResidentChange.objects.get(resident=child).reason == ChangeReason.BIRTH
    assert "陽向" in page.content.decode()
    assert consistent()


def test_death_of_the_head_from_a_code_link(desk, couple):
    head, wife, koseki = couple
    url_query = f"?code={head.juminhyo_code}"
    form = desk.get(f"/filings/death/{url_query}").content.decode()
    assert f'value="{head.juminhyo_code}"' in form
    walk, _ = file(desk, "death", {"subject_code": head.juminhyo_code, "date_of_death": "R8.11.18"}, url_query)
    assert "消除（除票になります）" in walk.confirm.content.decode()
    head.refresh_from_db()
    wife.refresh_from_db()
    assert (head.status, wife.relationship) == (ResidentStatus.REMOVED, "世帯主")
    assert koseki.entries.get(given_name="太郎").status == EntryStatus.REMOVED
    assert consistent()


def test_marriage_into_a_new_koseki_of_the_ward(desk):
    husband = ResidentFactory(surname="佐藤", given_name="健太", surname_kana="サトウ", given_name_kana="ケンタ")
    link_to_koseki(husband, KosekiFactory(hittousha_surname="佐藤", hittousha_given_name="一男"))
    husband.refresh_from_db()
    wife = ResidentFactory(
        surname="高橋",
        given_name="美咲",
        surname_kana="タカハシ",
        given_name_kana="ミサキ",
        sex="2",
        birth_date=dt.date(1992, 3, 3),
    )
    data = {
        "husband_code": husband.juminhyo_code,
        "wife_code": wife.juminhyo_code,
        "surname_from": "husband",
        "place": "new",
        "honseki_municipality": "131041",
        "honseki_address": "西新宿三丁目3番",
    }
    walk, _ = file(desk, "marriage", data)
    body = walk.confirm.content.decode()
    assert "編製（新しい戸籍）" in body
    assert "高橋" in body  # 変更前
    wife.refresh_from_db()
    assert (wife.surname, wife.hittousha_name) == ("佐藤", "佐藤　健太")
    assert Koseki.objects.get(honseki_address="西新宿三丁目3番").entries.count() == 2
    assert consistent()


def test_divorce_into_a_new_koseki_with_the_former_surname(desk, couple):
    head, wife, koseki = couple
    data = {
        "subject1_entry": str(koseki.entries.get(given_name="花子").pk),
        "place": "new",
        "honseki_municipality": "新宿区",
        "honseki_address": "四谷一丁目1番",
        "new_surname": "田中",
        "new_surname_kana": "たなか",
    }
    file(desk, "divorce", data, f"?koseki={koseki.pk}")
    wife.refresh_from_db()
    assert (wife.surname, wife.surname_kana, wife.hittousha_name) == ("田中", "タナカ", "田中　花子")
    assert consistent()


def test_honseki_transfer_within_the_ward(desk, couple):
    head, wife, koseki = couple
    data = {"koseki": "北新宿一丁目1番", "honseki_municipality": "131041", "honseki_address": "戸山一丁目1番"}
    file(desk, "honseki_transfer", data)
    koseki.refresh_from_db()  # the same 戸籍, its 本籍 corrected (管内転籍)
    assert (koseki.status, koseki.honseki_address) == (KosekiStatus.CURRENT, "戸山一丁目1番")
    head.refresh_from_db()
    assert head.honseki_address == "戸山一丁目1番"
    assert consistent()


def test_given_name_change_and_furigana(desk, couple):
    head, wife, koseki = couple
    taro = koseki.entries.get(given_name="太郎")
    file(
        desk,
        "given_name_change",
        {"subject_entry": str(taro.pk), "new_given_name": "大輔", "new_given_name_kana": "だいすけ"},
        f"?koseki={koseki.pk}",
    )
    wife.refresh_from_db()
    assert wife.hittousha_name == "山田　大輔"
    file(desk, "furigana", {"subject_code": wife.juminhyo_code, "surname_kana": "ヤマダ", "given_name_kana": "ハナ"})
    wife.refresh_from_db()
    assert wife.given_name_kana == "ハナ"
    assert consistent()


def test_naturalization_into_a_new_koseki_and_household(desk):
    data = {
        "surname": "李",
        "given_name": "明",
        "surname_kana": "リ",
        "given_name_kana": "アキラ",
        "birth_date": "1985-06-06",
        "sex": "1",
        "place": "new",
        "honseki_municipality": "131041",
        "honseki_address": "大久保一丁目1番",
        "residence": "new_household",
        "new_address": "大久保一丁目1番1号",
        "relationship": "世帯主",
        "ward_role": "new_honsekichi",
    }
    file(desk, "naturalization", data)
    person = Resident.objects.get(surname="李")
    assert (person.relationship, person.hittousha_name) == ("世帯主", "李　明")
    assert ResidentChange.objects.get(resident=person).reason == ChangeReason.EX_OFFICIO_ENTRY
    assert consistent()


def test_recognition_is_recorded_only(desk, couple):
    head, wife, koseki = couple
    before = (ResidentChange.objects.count(), FuhyoEntry.objects.count())
    data = {
        "subject1_entry": str(koseki.entries.get(given_name="花子").pk),
        "other_role": "recognizer",
        "other_surname": "鈴木",
        "other_given_name": "一郎",
        "other_birth_date": "S50.1.1",
        "other_address_municipality": "大阪市",
        "other_address": "北区梅田一丁目",
        "contents": "胎児認知",
    }
    walk, page = file(desk, "recognition", data, f"?koseki={koseki.pk}")
    filing = KosekiFiling.objects.get()
    assert (filing.kind, filing.details) == (FilingKind.RECOGNITION, {"contents": "胎児認知"})
    assert (ResidentChange.objects.count(), FuhyoEntry.objects.count()) == before
    assert "鈴木　一郎" in page.content.decode()


def test_death_of_the_head_with_a_new_head_chosen_on_the_form(desk, couple):
    head, wife, koseki = couple
    child = ResidentFactory(
        household=head.household,
        relationship="子",
        given_name="一郎",
        given_name_kana="イチロウ",
        birth_date=dt.date(2010, 1, 1),
    )
    query = f"?code={head.juminhyo_code}"
    form = desk.get(f"/filings/death/{query}").content.decode()
    assert 'name="remaining_head"' in form  # the 世帯 is known from the code: its next head can be chosen
    data = {
        "subject_code": head.juminhyo_code,
        "date_of_death": "R8.11.18",
        "remaining_head": str(wife.pk),
        f"relationship_{child.pk}": "子",
    }
    file(desk, "death", data, query)
    wife.refresh_from_db()
    child.refresh_from_db()
    assert (wife.relationship, child.relationship) == ("世帯主", "子")
