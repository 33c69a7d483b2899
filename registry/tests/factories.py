"""Factories for the 住民基本台帳 (dummy data only). Residents and their 附票 rows are built consistent with
registry.consistency unless a test asks otherwise."""

import datetime as dt
import random

import factory
from django.conf import settings

from common.juminhyo_codes import random_juminhyo_code
from common.models import Municipality
from registry.addresses import with_katagaki
from registry.choices import Sex
from registry.models import Household, Resident
from registry.services.entries import PersonData

_rng = random.Random(20261125)  # noqa: S311 - dummy codes, reproducible per test run

SURNAMES = [("山田", "ヤマダ"), ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ")]
GIVEN = [
    ("太郎", "タロウ", Sex.MALE),
    ("花子", "ハナコ", Sex.FEMALE),
    ("一郎", "イチロウ", Sex.MALE),
    ("美咲", "ミサキ", Sex.FEMALE),
]


def ward() -> Municipality:
    return Municipality.objects.get(code=settings.WARD_LG_CODE)


def elsewhere(code: str = "131130") -> Municipality:
    """Another municipality (default 渋谷区)."""
    return Municipality.objects.get(code=code)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    number = factory.Sequence(lambda n: f"9{n:07d}")
    address = factory.Sequence(lambda n: f"西新宿二丁目{n % 30 + 1}番{n % 9 + 1}号")
    katagaki = ""
    formed_on = dt.date(2010, 4, 1)


class ResidentFactory(factory.django.DjangoModelFactory):
    """A current resident, by default 世帯主 of a new 世帯, 本籍 in 渋谷区 (so no 附票 in this ward)."""

    class Meta:
        model = Resident

    juminhyo_code = factory.LazyFunction(lambda: random_juminhyo_code(_rng))
    surname = "山田"
    given_name = "太郎"
    surname_kana = "ヤマダ"
    given_name_kana = "タロウ"
    birth_date = dt.date(1980, 5, 1)
    sex = Sex.MALE
    household = factory.SubFactory(HouseholdFactory)
    relationship = "世帯主"
    address = factory.LazyAttribute(lambda o: o.household.address)
    katagaki = factory.LazyAttribute(lambda o: o.household.katagaki)
    address_established_on = dt.date(2010, 4, 1)
    became_resident_on = dt.date(2010, 4, 1)
    honseki_municipality = factory.LazyFunction(lambda: elsewhere())
    honseki_address = "神南一丁目1番"
    hittousha_name = "山田　一夫"


def fuhyo_address_text(resident: Resident) -> str:
    return with_katagaki(resident.address, resident.katagaki)


def person_data(**overrides) -> PersonData:
    """The newcomer of the notice tests: 佐藤健太, 世帯主, 本籍 in 大阪市北区 (so that every change of the person is
    notified to another 本籍地); `overrides` change any item."""
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
    return PersonData(**{**values, **overrides})
