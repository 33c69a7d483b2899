"""The fields every entry screen shares: dates in 和暦 or 西暦 shown back as 和暦（西暦）, カナ folded,
municipalities by code or name, and service messages put next to their fields."""

import datetime as dt

import pytest
from django import forms

from common.errors import ServiceError
from common.forms import KanaField, MunicipalityField, ServiceErrorsMixin, WarekiDateField


class Form(ServiceErrorsMixin, forms.Form):
    date = WarekiDateField(label="異動年月日")
    kana = KanaField(label="カナ", required=False)
    place = MunicipalityField(label="市区町村", required=False)


@pytest.mark.parametrize(
    "typed",
    [
        "R6.5.27",
        "令和6年5月27日",
        "r6/5/27",
        "Ｒ６．５．２７",
        "2024-05-27",
        "2024/5/27",
        "20240527",
        "令和6年5月27日（2024-05-27）",
    ],
)
def test_dates_in_wareki_or_seireki(typed):
    form = Form({"date": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["date"] == dt.date(2024, 5, 27)


def test_first_year_of_an_era():
    form = Form({"date": "H1.1.8"})
    assert form.is_valid()
    assert form.cleaned_data["date"] == dt.date(1989, 1, 8)


def test_a_date_is_shown_back_as_wareki_with_seireki():
    assert 'value="令和6年5月27日（2024-05-27）"' in str(Form({"date": "R6.5.27"})["date"])
    assert 'value="令和6年5月27日（2024-05-27）"' in str(Form(initial={"date": dt.date(2024, 5, 27)})["date"])


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("R6.2.30", "「R6.2.30」は存在しない日付です。"),
        ("H31.5.1", "平成の期間にない日付です"),
        ("きのう", "日付として読めません"),
    ],
)
def test_bad_dates_are_refused_in_japanese(typed, message):
    form = Form({"date": typed})
    assert not form.is_valid()
    assert message in form.errors["date"][0]
    assert f'value="{typed}"' in str(form["date"])  # what the clerk typed stays for correction


def test_kana_is_folded():
    form = Form({"date": "R6.5.27", "kana": "やまだ ﾀﾛｳ"})
    assert not form.is_valid()  # the space is not kana
    form = Form({"date": "R6.5.27", "kana": "やまだﾀﾛｳ"})
    assert form.is_valid()
    assert form.cleaned_data["kana"] == "ヤマダタロウ"


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["131130", "13113", "渋谷区", "東京都渋谷区", "東京都渋谷区（131130）"])
def test_municipality_by_code_or_name(typed):
    form = Form({"date": "R6.5.27", "place": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["place"].code == "131130"


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["141046", "横浜市中区", "神奈川県横浜市中区"])
def test_any_municipality_of_the_country_is_known(typed):
    """The full table: a 転入 from 横浜市中区 was refused when only a subset was bundled."""
    form = Form({"date": "R6.5.27", "place": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["place"].code == "141046"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("府中市", "は複数あります"),
        ("131131", "検査数字"),
        ("架空市", "見つかりません"),
        ("999997", "登録されていません"),
    ],
)
def test_municipality_refusals(typed, message):
    from common.models import Municipality

    if typed == "府中市" and Municipality.objects.filter(name="府中市").count() < 2:
        Municipality.objects.create(code="342084", prefecture_name="広島県", name="府中市", kind="city")
    form = Form({"date": "R6.5.27", "place": typed})
    assert not form.is_valid()
    assert message in form.errors["place"][0]


def test_service_messages_go_to_their_fields():
    form = Form({"date": "R6.5.27"})
    assert form.is_valid()
    form.add_service_error(ServiceError({"date": ["異動年月日が未来の日付です。"], "persons": ["一人以上"]}))
    assert form.errors["date"] == ["異動年月日が未来の日付です。"]
    assert form.non_field_errors() == ["一人以上"]
    rendered = str(form)
    assert rendered.index("異動年月日が未来の日付です。") > rendered.index('name="date"')  # after the field
    assert "異動年月日:" not in rendered  # no colon after Japanese labels
