"""Property tests of the validators and parsers every screen relies on: check digits, カナ folding, 和暦, names, the
shared validators and the shared form fields. Validators accept or raise ValidationError (never another exception),
their messages are Japanese, and round trips hold."""

import datetime as dt
import random

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, given
from hypothesis import strategies as st

from common import checkdigits, kana, names, validators, wareki
from common.forms import KanaField, MunicipalityField, WarekiDateField, parse_wareki_input
from common.juminhyo_codes import issue_juminhyo_code, random_juminhyo_code

from .fuzz_support import FUZZ, hostile_text, is_japanese

digits = st.text(st.sampled_from("0123456789"), min_size=1, max_size=1)


def _messages(error: ValidationError) -> list[str]:
    return [str(m) for m in error.messages]


def _refusal(function, *args) -> list[str] | None:
    """None when `function(*args)` accepts; its messages when it refuses (any other exception propagates)."""
    try:
        function(*args)
    except ValidationError as refused:
        return _messages(refused)
    except wareki.WarekiError as refused:
        return [str(refused)]
    return None


# --- Check digits ----------------------------------------------------------------------------------------------


@FUZZ
@given(st.text(st.sampled_from("0123456789"), min_size=10, max_size=10))
def test_a_computed_juminhyo_check_digit_validates(payload):
    code = payload + str(checkdigits.juminhyo_code_check_digit(payload))
    assert checkdigits.is_valid_juminhyo_code(code)
    validators.validate_juminhyo_code(code)


@FUZZ
@given(st.text(st.sampled_from("0123456789"), min_size=10, max_size=10), st.integers(0, 10), st.integers(1, 9))
def test_one_changed_digit_of_a_juminhyo_code_is_refused(payload, position, delta):
    code = payload + str(checkdigits.juminhyo_code_check_digit(payload))
    changed = code[:position] + str((int(code[position]) + delta) % 10) + code[position + 1 :]
    # Modulus 11 with weights 2..7 catches every single-digit change, except where the check digit folds
    # remainders 0 and 1 together (both give 0): then a change of the payload can keep the check digit.
    if position < 10 and checkdigits.juminhyo_code_check_digit(changed[:10]) == int(changed[10]):
        total = lambda p: sum(int(c) * (n + 1 if n <= 6 else n - 5) for n, c in enumerate(reversed(p), 1))  # noqa: E731
        assert {total(code[:10]) % 11, total(changed[:10]) % 11} == {0, 1}
        return
    assert not checkdigits.is_valid_juminhyo_code(changed)
    with pytest.raises(ValidationError) as refused:
        validators.validate_juminhyo_code(changed)
    assert all(is_japanese(m) for m in _messages(refused.value))


@FUZZ
@given(st.text(st.sampled_from("0123456789"), min_size=5, max_size=5))
def test_a_computed_lg_check_digit_validates_and_a_changed_one_does_not(payload):
    check = checkdigits.lg_code_check_digit(payload)
    validators.validate_lg_code(payload + str(check))
    for other in set(range(10)) - {check}:
        assert not checkdigits.is_valid_lg_code(payload + str(other))


@FUZZ
@given(hostile_text())
def test_check_digit_functions_answer_or_raise_value_error(text):
    assert checkdigits.is_valid_juminhyo_code(text) in (True, False)
    assert checkdigits.is_valid_lg_code(text) in (True, False)
    for compute in (checkdigits.juminhyo_code_check_digit, checkdigits.lg_code_check_digit):
        try:
            assert 0 <= compute(text) <= 9
        except ValueError:
            pass


@FUZZ
@given(st.integers(0, 2**32))
def test_issued_codes_validate(seed):
    rng = random.Random(seed)  # noqa: S311 - seeded: the same codes again below
    validators.validate_juminhyo_code(random_juminhyo_code(rng))
    taken = {random_juminhyo_code(random.Random(seed))}  # noqa: S311
    assert issue_juminhyo_code(taken.__contains__, random.Random(seed)) not in taken  # noqa: S311


# --- Validators: accept or ValidationError with Japanese messages ----------------------------------------------

VALIDATORS = [
    validators.validate_juminhyo_code,
    validators.validate_lg_code,
    validators.validate_katakana,
    validators.clean_kana,
    validators.validate_name_part,
]


@pytest.mark.parametrize("validator", VALIDATORS, ids=lambda v: v.__name__)
@FUZZ
@given(text=hostile_text())
def test_validators_accept_or_raise_validation_error_in_japanese(validator, text):
    messages = _refusal(validator, text)
    if messages is not None:
        assert messages
        assert all(is_japanese(m) for m in messages), messages


# --- カナ ----------------------------------------------------------------------------------------------------------

hiragana = st.text(st.characters(min_codepoint=0x3041, max_codepoint=0x3096), min_size=1, max_size=20)


@FUZZ
@given(hostile_text())
def test_folding_is_idempotent(text):
    once = kana.fold_kana(text)
    assert kana.fold_kana(once) == once


@FUZZ
@given(hiragana)
def test_hiragana_folds_to_the_katakana_it_stands_for(text):
    katakana = "".join(chr(ord(c) + 0x60) for c in text)
    assert kana.fold_kana(text) == katakana
    assert validators.clean_kana(text) == validators.clean_kana(katakana) == katakana


@FUZZ
@given(st.text(st.characters(min_codepoint=0xFF66, max_codepoint=0xFF9D), min_size=1, max_size=20))
def test_halfwidth_katakana_is_accepted_as_fullwidth(text):
    folded = validators.clean_kana(text)
    assert not kana.invalid_kana_characters(folded)
    assert all(not 0xFF61 <= ord(c) <= 0xFF9F for c in folded)


# --- 和暦 ----------------------------------------------------------------------------------------------------------

register_dates = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31))


@FUZZ
@given(register_dates)
def test_wareki_format_then_parse_gives_the_same_date(date):
    assert wareki.parse_date(wareki.to_wareki(date)) == date
    assert parse_wareki_input(wareki.to_wareki_with_seireki(date)) == date
    assert wareki.parse_date(date.isoformat()) == date
    assert wareki.parse_date(date.strftime("%Y%m%d")) == date


@FUZZ
@given(st.dates(min_value=dt.date(1873, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_era_letter_form_round_trips(date):
    era = wareki.era_of(date)
    year = date.year - (1868 if era.letter == "M" else era.start.year) + 1
    for text in (f"{era.letter}{year}.{date.month}.{date.day}", f"{era.name}{year}年{date.month}月{date.day}日"):
        assert wareki.parse_date(text) == date
        assert wareki.parse_date(text.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))) == date


def _era_base(era) -> int:
    return 1868 if era.letter == "M" else era.start.year


@FUZZ
@given(st.dates(min_value=dt.date(1912, 1, 1), max_value=dt.date(2099, 12, 31)), st.data())
def test_a_date_outside_the_named_era_is_refused(date, data):
    # the other eras in which the date's year would be written with 1 to 99 (drawn from, not filtered: a filter on
    # two independent draws threw away most inputs and failed hypothesis's health check now and then)
    others = [e for e in wareki.ERAS if e != wareki.era_of(date) and 1 <= date.year - _era_base(e) + 1 <= 99]
    assume(others)
    era = data.draw(st.sampled_from(others))
    year = date.year - _era_base(era) + 1
    with pytest.raises(wareki.WarekiError):
        wareki.parse_date(f"{era.name}{year}年{date.month}月{date.day}日")


@FUZZ
@given(hostile_text())
def test_parse_date_answers_a_date_or_a_japanese_wareki_error(text):
    messages = _refusal(wareki.parse_date, text)
    if messages is None:
        assert isinstance(wareki.parse_date(text), dt.date)
    else:
        assert all(is_japanese(m) for m in messages), messages


# --- 氏名 ----------------------------------------------------------------------------------------------------------

ideographs = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=10)


@FUZZ
@given(ideographs, st.integers(0xE0100, 0xE01EF))
def test_kanji_with_a_variation_selector_is_a_name(text, selector):
    assert names.name_problems(text) == []
    assert names.name_problems(text + chr(selector)) == []


@FUZZ
@given(ideographs, hostile_text(20))
def test_name_problems_are_japanese_and_unique(text, extra):
    problems = names.name_problems(extra + text + extra)
    assert len(problems) == len(set(problems))
    assert all(is_japanese(p) for p in problems)
    if extra and any(c.isspace() or c.isascii() for c in extra):
        assert problems


# --- The shared form fields ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("field_class", [WarekiDateField, KanaField, MunicipalityField], ids=lambda c: c.__name__)
@FUZZ
@given(value=st.one_of(hostile_text(), st.none(), st.lists(hostile_text(10), max_size=2)))
def test_shared_fields_clean_or_refuse_in_japanese(field_class, value):
    field = field_class(required=False)
    messages = _refusal(field.clean, value)
    assert messages is None or all(is_japanese(m) for m in messages), messages


def test_regression_era_years_past_99_read_back():
    """Found by test_wareki_format_then_parse_gives_the_same_date: 2118-01-01 is shown as 令和100年1月1日, which the
    parser refused (it read at most two digits of an era year)."""
    assert wareki.to_wareki(dt.date(2118, 1, 1)) == "令和100年1月1日"
    assert wareki.parse_date("令和100年1月1日") == dt.date(2118, 1, 1)
    assert wareki.parse_date("R1000.1.1") == dt.date(3018, 1, 1)
