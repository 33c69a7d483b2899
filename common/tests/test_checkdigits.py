"""Check digits against worked examples (domain.md §4 and 総務省's code list)."""

import pytest
from django.core.exceptions import ValidationError

from common.checkdigits import (
    is_valid_juminhyo_code,
    is_valid_lg_code,
    juminhyo_code_check_digit,
    lg_code_check_digit,
)
from common.municipalities import BUNDLED_TABLE, read_table
from common.validators import validate_juminhyo_code, validate_lg_code


def test_juminhyo_code_worked_example():
    # domain.md §4.1: payload 1234567890 → Σ = 195, 195 mod 11 = 8, check = 3.
    assert juminhyo_code_check_digit("1234567890") == 3
    assert is_valid_juminhyo_code("12345678903")
    assert not is_valid_juminhyo_code("12345678904")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("0000000000", 0),  # Σ = 0 → remainder 0 → 0
        ("0000000005", 1),  # Σ = 10 → remainder 10 → 11 − 10 = 1
        ("0000000006", 0),  # Σ = 12 → remainder 1 → 0 (the 個人番号's rule)
        ("0000000001", 9),  # Σ = 2 → 11 − 2 = 9
        ("1000000000", 6),  # leftmost digit has weight 5 → 11 − 5 = 6
    ],
)
def test_juminhyo_code_remainders(payload, expected):
    assert juminhyo_code_check_digit(payload) == expected


def test_my_number_style_formula_agrees_with_domain_reference():
    def mod11_cd(payload: str) -> int:  # copied from domain.md §4.2
        s = sum(int(c) * (n + 1 if n <= 6 else n - 5) for n, c in enumerate(reversed(payload), start=1))
        r = s % 11
        return 0 if r <= 1 else 11 - r

    for payload in ("1234567890", "9876543210", "5555555555", "0102030405"):
        assert juminhyo_code_check_digit(payload) == mod11_cd(payload)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("131041", "新宿区"),
        ("131016", "千代田区"),
        ("011002", "札幌市"),
        ("010006", "北海道"),
        ("141003", "横浜市"),
        ("271004", "大阪市"),
        ("472018", "那覇市"),
        ("130001", "東京都"),
    ],
)
def test_lg_code_worked_examples(code, name):
    # 新宿区 13104: 1·6+3·5+1·4+0·3+4·2 = 33, 33 mod 11 = 0 → 11 − 0 = 11 → 1.
    assert lg_code_check_digit(code[:5]) == int(code[5]), name
    assert is_valid_lg_code(code)


def test_lg_code_remainder_one_gives_zero():
    # 渋谷区 13113: 1·6+3·5+1·4+1·3+3·2 = 34, 34 mod 11 = 1 → 11 − 1 = 10 → 0 (131130).
    assert lg_code_check_digit("13113") == 0
    payload = next(
        f"{n:05d}"
        for n in range(100000)
        if sum(int(c) * w for c, w in zip(f"{n:05d}", (6, 5, 4, 3, 2), strict=True)) % 11 == 1
    )
    assert lg_code_check_digit(payload) == 0


def test_every_bundled_municipality_code_is_valid():
    rows = list(read_table(BUNDLED_TABLE))
    assert len(rows) >= 47 + 23
    assert all(is_valid_lg_code(r["code"]) for r in rows)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("1234567890", "11桁"), ("1234567890３", "11桁"), ("12345678904", "末尾は 3"), ("abcdefghijk", "11桁")],
)
def test_juminhyo_code_validator_messages(value, fragment):
    with pytest.raises(ValidationError) as err:
        validate_juminhyo_code(value)
    assert fragment in err.value.messages[0]


def test_lg_code_validator():
    validate_lg_code("131041")
    with pytest.raises(ValidationError):
        validate_lg_code("131042")
    with pytest.raises(ValidationError):
        validate_lg_code("13104")
