"""氏名: any kanji including IVS and supplementary-plane characters, kept exactly as entered."""

import pytest
from django.core.exceptions import ValidationError

from common.validators import validate_name_part

KATSURAGI_IVS = "葛\U000e0100"  # 葛 with an ideographic variation selector
TSUCHI_YOSHI = "\U00020bb7"  # 𠮷 (U+20BB7), supplementary plane


@pytest.mark.parametrize(
    "name",
    [
        "山田",
        "髙橋",
        "𠮷田".replace("𠮷", TSUCHI_YOSHI),
        KATSURAGI_IVS + "西",
        "佐々木",
        "さくら",
        "ジョージ",
        "〆木",
        "渡邉\ufe00",
    ],
)
def test_names_accepted(name):
    validate_name_part(name)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Yamada", "使えない文字"),
        ("山田 太郎", "空白"),
        ("山田1", "使えない文字"),
        ("\ue000田", "外字"),
        ("\U000e0100山", "異体字セレクタ"),
        ("", "入力"),
    ],
)
def test_names_refused(name, fragment):
    with pytest.raises(ValidationError) as err:
        validate_name_part(name)
    assert fragment in " ".join(err.value.messages)


def test_variation_sequence_survives_a_round_trip(db):
    from registry.tests.factories import ResidentFactory

    resident = ResidentFactory(surname=KATSURAGI_IVS + "城", hittousha_name="葛城　一")
    resident.refresh_from_db()
    assert resident.surname == KATSURAGI_IVS + "城"
    assert len(resident.surname) == 3
