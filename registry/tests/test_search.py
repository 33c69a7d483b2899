"""住民検索, the selector (registry.search): every condition, AND, 現存/除票, order and keyset pages, name folding.

Runs on SQLite (LIKE) and on PostgreSQL (the gram table); the PostgreSQL-only checks are at the end."""

import datetime as dt

import pytest
from django.db import connection

from registry.choices import ResidentStatus
from registry.search import (
    ResidentQuery,
    fold_name,
    name_ngrams,
    normalise_address,
    query_grams,
    search_residents,
)
from registry.tests.factories import HouseholdFactory, ResidentFactory

pytestmark = pytest.mark.django_db
on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")


def person(surname, given, surname_kana, given_kana, **extra):
    return ResidentFactory(
        surname=surname, given_name=given, surname_kana=surname_kana, given_name_kana=given_kana, **extra
    )


def names(page) -> list[str]:
    return [r.surname + r.given_name for r in page.rows]


@pytest.fixture
def people():
    return {
        "tanaka_taro": person("田中", "太郎", "タナカ", "タロウ", birth_date=dt.date(1980, 5, 1)),
        "tanaka_hanako": person("田中", "花子", "タナカ", "ハナコ", birth_date=dt.date(1985, 1, 8), sex="2"),
        "yamada": person("山田", "一郎", "ヤマダ", "イチロウ", birth_date=dt.date(1989, 1, 8)),
        "nakamura": person("中村", "美咲", "ナカムラ", "ミサキ", birth_date=dt.date(2000, 2, 29), sex="2"),
        "takanaka": person("高中", "太一", "タカナカ", "タイチ"),
    }


def test_one_kanji_anywhere_in_surname_or_given_name(people):
    assert set(names(search_residents(ResidentQuery(name="中")))) == {"田中太郎", "田中花子", "中村美咲", "高中太一"}
    assert names(search_residents(ResidentQuery(name="郎"))) == ["田中太郎", "山田一郎"]


def test_two_kanji_and_across_the_surname_given_name_boundary(people):
    assert names(search_residents(ResidentQuery(name="田中"))) == ["田中太郎", "田中花子"]
    assert names(search_residents(ResidentQuery(name="中太"))) == ["高中太一", "田中太郎"]  # 田中|太郎, 高中|太一
    assert names(search_residents(ResidentQuery(name="田中太郎"))) == ["田中太郎"]


def test_longer_name_needs_the_whole_string_not_just_its_bigrams(people):
    person("田中", "中子", "タナカ", "ナカコ")  # 田中中子: has the bigrams 田中 and 中子, but not 田中子
    assert names(search_residents(ResidentQuery(name="田中子"))) == []
    assert names(search_residents(ResidentQuery(name="中中子"))) == ["田中中子"]


def test_kana_prefix_of_the_whole_name_and_with_a_space_between_surname_and_given_name(people):
    assert names(search_residents(ResidentQuery(kana="タナカ"))) == ["田中太郎", "田中花子"]
    assert names(search_residents(ResidentQuery(kana="タ"))) == ["高中太一", "田中太郎", "田中花子"]
    assert names(search_residents(ResidentQuery(kana="タナカ ハ"))) == ["田中花子"]
    assert names(search_residents(ResidentQuery(kana="タナカハ"))) == ["田中花子"]


def test_birth_date_address_household_and_code_are_exact_or_partial(people):
    assert names(search_residents(ResidentQuery(birth_date=dt.date(1989, 1, 8)))) == ["山田一郎"]
    yamada = people["yamada"]
    assert names(search_residents(ResidentQuery(household_number=yamada.household.number))) == ["山田一郎"]
    assert names(search_residents(ResidentQuery(juminhyo_code=yamada.juminhyo_code))) == ["山田一郎"]
    street = yamada.address[:8]
    assert "山田一郎" in names(search_residents(ResidentQuery(address=street)))


def test_address_matches_the_katagaki_too():
    household = HouseholdFactory(address="北新宿四丁目18番5号", katagaki="第三コート509")
    person("佐藤", "健", "サトウ", "ケン", household=household)
    assert names(search_residents(ResidentQuery(address="第三コート"))) == ["佐藤健"]
    assert names(search_residents(ResidentQuery(address="北新宿四丁目18"))) == ["佐藤健"]


def test_household_number_without_leading_zeros():
    household = HouseholdFactory(number="0000004711")
    person("佐藤", "健", "サトウ", "ケン", household=household)
    assert names(search_residents(ResidentQuery(household_number="4711"))) == ["佐藤健"]


def test_conditions_combine_with_and(people):
    assert names(search_residents(ResidentQuery(name="田中", birth_date=dt.date(1985, 1, 8)))) == ["田中花子"]
    assert names(search_residents(ResidentQuery(name="田中", kana="ヤマダ"))) == []


def test_current_removed_or_both():
    current = person("鈴木", "一郎", "スズキ", "イチロウ")
    removed = person("鈴木", "次郎", "スズキ", "ジロウ", status=ResidentStatus.REMOVED, removed_on=dt.date(2020, 4, 1))
    assert search_residents(ResidentQuery(name="鈴木")).rows == [current]
    assert search_residents(ResidentQuery(name="鈴木", status="removed")).rows == [removed]
    assert search_residents(ResidentQuery(name="鈴木", status="all")).rows == [current, removed]
    assert search_residents(ResidentQuery(kana="スズキ", status="all")).rows == [current, removed]


def test_order_is_kana_then_birth_date_then_id():
    older = person("伊藤", "優", "イトウ", "ユウ", birth_date=dt.date(1970, 1, 1))
    younger = person("伊藤", "優", "イトウ", "ユウ", birth_date=dt.date(1990, 1, 1))
    twin = person("伊藤", "優", "イトウ", "ユウ", birth_date=dt.date(1990, 1, 1))
    first = person("井上", "愛", "イノウエ", "アイ")
    for query in (ResidentQuery(name="伊藤"), ResidentQuery(kana="イ")):
        rows = search_residents(query).rows
        assert [r for r in rows if r != first] == [older, younger, twin]
    assert search_residents(ResidentQuery(kana="イ")).rows == [older, younger, twin, first]


@pytest.mark.parametrize("query", [ResidentQuery(name="木"), ResidentQuery(kana="キ"), ResidentQuery(name="木村美")])
def test_keyset_pages_cover_every_match_once_in_order(query):
    made = [
        person("木村", "美" + "子", "キムラ", "ミコ", birth_date=dt.date(1950 + i % 7, 1 + i % 12, 1))
        for i in range(11)
    ]
    seen, after, pages = [], None, 0
    while True:
        page = search_residents(query, after=after, limit=4)
        seen += page.rows
        pages += 1
        if page.next_after is None:
            break
        assert page.next_after == page.rows[-1].pk
        after = page.next_after
    assert sorted(r.pk for r in seen) == sorted(r.pk for r in made)
    assert len(seen) == len(made)
    assert pages == 3
    keys = [(r.surname_kana + r.given_name_kana, r.birth_date, r.pk) for r in seen]
    assert keys == sorted(keys)


def test_a_page_that_fills_exactly_has_no_next_page():
    for _ in range(4):
        person("林", "誠", "ハヤシ", "マコト")
    assert search_residents(ResidentQuery(name="林"), limit=4).next_after is None


@pytest.mark.parametrize("common", [0.0, 1.0], ids=["gram-walk", "gin-bitmap"])
@pytest.mark.parametrize("narrow", [0, 5_000], ids=["walk-in-kana-order", "sort-the-few"])
def test_few_or_many_other_matches_give_the_same_pages(monkeypatch, narrow, common):
    monkeypatch.setattr("registry.search.NARROW", narrow)
    monkeypatch.setattr("registry.search.COMMON_GRAM", common)
    street = HouseholdFactory(address="河田町3番1号")
    here = [
        person("河野", g, "コウノ", k, household=street, relationship=rel, birth_date=dt.date(1990, 1, 1))
        for g, k, rel in (("進", "ススム", "世帯主"), ("茂", "シゲル", "子"), ("実", "ミノル", "子"))
    ]
    person("河野", "勇", "コウノ", "イサム", birth_date=dt.date(1990, 1, 1))  # elsewhere
    by_kana = sorted(here, key=lambda r: r.given_name_kana)
    for query in (
        ResidentQuery(address="河田町3番"),
        ResidentQuery(name="河", address="河田町"),
        ResidentQuery(name="河野", birth_date=dt.date(1990, 1, 1), address="河田町"),
        ResidentQuery(kana="コウノ", address="河田町3番"),
    ):
        first = search_residents(query, limit=2)
        assert first.rows == by_kana[:2], query
        assert search_residents(query, after=first.next_after, limit=2).rows == by_kana[2:], query


def test_empty_query_finds_nothing(people):
    assert search_residents(ResidentQuery()).rows == []


def test_variants_and_variation_selectors_are_folded_for_search():
    takahashi = person("髙橋", "誠", "タカハシ", "マコト")
    yoshida = person("\U00020bb7田", "茂", "ヨシダ", "シゲル")
    kasai = person("葛\U000e0100西", "実", "カサイ", "ミノル")
    assert search_residents(ResidentQuery(name=fold_name("高橋"))).rows == [takahashi]
    assert search_residents(ResidentQuery(name=fold_name("髙"))).rows == [takahashi]
    assert search_residents(ResidentQuery(name=fold_name("吉田"))).rows == [yoshida]
    assert search_residents(ResidentQuery(name=fold_name("葛西"))).rows == [kasai]
    assert search_residents(ResidentQuery(name=fold_name("葛\U000e0100西実"))).rows == [kasai]


def test_fold_name_and_ngrams():
    assert fold_name(" 髙橋　誠 ") == "高橋誠"
    assert fold_name("葛\U000e0100西") == "葛西"
    assert name_ngrams("田中", "太郎") == sorted(["田", "中", "太", "郎", "田中", "中太", "太郎"])
    assert name_ngrams("林", "") == ["林"]
    assert query_grams("田") == ["田"]
    assert query_grams("田中") == ["田中"]
    assert query_grams("田中田中") == ["田中", "中田"]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("北新宿4-18-5", "北新宿四丁目18番5号"),
        ("北新宿４丁目１８", "北新宿四丁目18"),
        ("西新宿2丁目", "西新宿二丁目"),
        ("市谷加賀町12-3", "市谷加賀町十二丁目3番"),
        ("コーポ北新宿 101", "コーポ北新宿101"),
    ],
)
def test_address_as_typed_is_normalised_as_stored(typed, stored):
    assert normalise_address(typed) == stored


# --- PostgreSQL: the gram table kept by triggers, and the SQL twins of the Python functions ---------------------


def _grams_in_table(resident_id: int) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT gram, status FROM registry_resident_name_gram WHERE resident_id = %s ORDER BY gram",
            [resident_id],
        )
        return cursor.fetchall()


@on_postgres
@pytest.mark.parametrize(
    ("surname", "given"),
    [
        ("田中", "太郎"),
        ("髙橋", "誠"),
        ("葛\U000e0100西", "実"),
        ("\U00020bb7田", "茂"),
        ("林", "の"),
        ("佐々木", "ゆり"),
    ],
)
def test_sql_functions_agree_with_python(surname, given):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT registry_name_fold(%s) || registry_name_fold(%s), registry_name_grams(%s, %s)",
            [surname, given, surname, given],
        )
        folded, grams = cursor.fetchone()
    assert folded == fold_name(surname) + fold_name(given)
    assert sorted(grams) == name_ngrams(surname, given)


@on_postgres
def test_triggers_keep_the_gram_table_on_insert_update_and_status_change():
    resident = person("田中", "太郎", "タナカ", "タロウ")
    assert sorted(g for g, _ in _grams_in_table(resident.pk)) == name_ngrams("田中", "太郎")
    assert {s for _, s in _grams_in_table(resident.pk)} == {"current"}
    resident.surname = "山中"  # the test writes the row directly: the triggers must follow any UPDATE
    resident.save()
    assert sorted(g for g, _ in _grams_in_table(resident.pk)) == name_ngrams("山中", "太郎")
    resident.status, resident.removed_on = ResidentStatus.REMOVED, dt.date(2024, 1, 1)
    resident.save()
    assert {s for _, s in _grams_in_table(resident.pk)} == {"removed"}
    assert search_residents(ResidentQuery(name="山中", status="removed")).rows[0].pk == resident.pk


@on_postgres
def test_sql_keyset_matches_the_orm_order_for_every_condition_kind():
    for i in range(6):
        person("森", "健" + "一二三四五六"[i], "モリ", "ケン" + "イチ ニ サン シ ゴ ロク".split()[i])
    by_name = search_residents(ResidentQuery(name="森")).rows
    by_kana = search_residents(ResidentQuery(kana="モリ")).rows
    assert by_name == by_kana
