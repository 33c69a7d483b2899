"""氏名カナ: hiragana and half-width input folded to full-width katakana; anything else refused."""

import pytest
from django.core.exceptions import ValidationError

from common.validators import clean_kana, validate_katakana


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("やまだ", "ヤマダ"),
        ("ﾔﾏﾀﾞ", "ヤマダ"),
        ("ｼﾞｮｰｼﾞ", "ジョージ"),
        ("ﾊﾟﾊﾟ", "パパ"),
        ("ヤマダ", "ヤマダ"),
        ("  すずき　", "スズキ"),
        ("ゔぃ", "ヴィ"),
        ("いすゞ", "イスヾ"),
        ("きょう", "キョウ"),
    ],
)
def test_kana_is_folded(typed, stored):
    assert clean_kana(typed) == stored


@pytest.mark.parametrize("typed", ["山田", "Yamada", "ヤマダ1", "ヤマ ダ", "ヤマダ!", "", "ＹＡＭＡＤＡ"])
def test_non_kana_is_refused_with_japanese_message(typed):
    with pytest.raises(ValidationError) as err:
        clean_kana(typed)
    assert "カナ" in " ".join(err.value.messages)


def test_stored_kana_must_already_be_katakana():
    validate_katakana("ヤマダ")
    with pytest.raises(ValidationError):
        validate_katakana("やまだ")
