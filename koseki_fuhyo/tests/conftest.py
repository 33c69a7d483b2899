import datetime as dt

import pytest

from registry.services import PersonData


@pytest.fixture(autouse=True)
def _today(frozen_today):
    return frozen_today


@pytest.fixture
def person():
    """A PersonData builder: a 世帯主 born 1990 with 本籍 in 大阪市; override any item."""

    def make(**overrides) -> PersonData:
        values = {
            "surname": "佐藤",
            "given_name": "健太",
            "surname_kana": "サトウ",
            "given_name_kana": "ケンタ",
            "birth_date": dt.date(1990, 1, 15),
            "sex": "1",
            "relationship": "世帯主",
            "honseki_municipality": "271004",
            "honseki_address": "北区梅田一丁目1番",
            "hittousha_name": "佐藤　健太",
        }
        values.update(overrides)
        return PersonData(**values)

    return make
