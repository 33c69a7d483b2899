import datetime as dt

import pytest

from common.wareki import WarekiError, parse_date, to_wareki, to_wareki_with_seireki


@pytest.mark.parametrize(
    ("date", "text"),
    [
        (dt.date(2024, 5, 27), "令和6年5月27日"),
        (dt.date(2019, 5, 1), "令和元年5月1日"),
        (dt.date(2019, 4, 30), "平成31年4月30日"),
        (dt.date(1989, 1, 8), "平成元年1月8日"),
        (dt.date(1989, 1, 7), "昭和64年1月7日"),
        (dt.date(1926, 12, 25), "昭和元年12月25日"),
        (dt.date(1912, 7, 30), "大正元年7月30日"),
        (dt.date(1900, 1, 1), "明治33年1月1日"),
    ],
)
def test_to_wareki(date, text):
    assert to_wareki(date) == text


def test_with_seireki():
    assert to_wareki_with_seireki(dt.date(2024, 5, 27)) == "令和6年5月27日（2024-05-27）"
    assert to_wareki_with_seireki(None) == ""


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("R6.5.27", dt.date(2024, 5, 27)),
        ("令和6年5月27日", dt.date(2024, 5, 27)),
        ("H1.1.8", dt.date(1989, 1, 8)),
        ("平成元年1月8日", dt.date(1989, 1, 8)),
        ("S64.1.7", dt.date(1989, 1, 7)),
        ("2024-05-27", dt.date(2024, 5, 27)),
        ("2024/5/27", dt.date(2024, 5, 27)),
        ("20240527", dt.date(2024, 5, 27)),
        ("Ｒ６．５．２７", dt.date(2024, 5, 27)),
        ("r6.5.27", dt.date(2024, 5, 27)),
    ],
)
def test_parse(text, date):
    assert parse_date(text) == date


@pytest.mark.parametrize("text", ["H1.1.7", "S65.1.1", "R6.2.30", "令和0年1月1日", "明日", "2024-13-01"])
def test_parse_refuses(text):
    with pytest.raises(WarekiError):
        parse_date(text)
