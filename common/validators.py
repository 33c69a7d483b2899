"""Field validators shared by models, forms, admin, services and imports. Messages are for clerks, in Japanese."""

from django.core.exceptions import ValidationError

from . import checkdigits, kana, names


def validate_juminhyo_code(value: str) -> None:
    """住民票コード: 11 digits whose last is the modulus-11 check digit."""
    if not (len(value) == 11 and value.isascii() and value.isdigit()):
        raise ValidationError("住民票コードは半角数字11桁で入力してください。", code="juminhyo_code_format")
    if not checkdigits.is_valid_juminhyo_code(value):
        expected = checkdigits.juminhyo_code_check_digit(value[:10])
        raise ValidationError(
            "住民票コードの検査数字が正しくありません（末尾は %(expected)s のはずです）。入力を確かめてください。",
            code="juminhyo_code_check_digit",
            params={"expected": expected},
        )


def validate_lg_code(value: str) -> None:
    """地方公共団体コード: 6 digits whose last is the check digit."""
    if not (len(value) == 6 and value.isascii() and value.isdigit()):
        raise ValidationError("地方公共団体コードは半角数字6桁で入力してください。", code="lg_code_format")
    if not checkdigits.is_valid_lg_code(value):
        expected = checkdigits.lg_code_check_digit(value[:5])
        raise ValidationError(
            "地方公共団体コードの検査数字が正しくありません（末尾は %(expected)s のはずです）。",
            code="lg_code_check_digit",
            params={"expected": expected},
        )


def validate_partner_code(value: str) -> None:
    """A notice's sender, receiver or partner: a 地方公共団体コード with its check digit, or J-LIS."""
    if value == checkdigits.JLIS_CODE:
        return
    if not (len(value) == 6 and value.isascii() and value.isdigit()):
        raise ValidationError(
            "団体コードは地方公共団体コード（半角数字6桁）または J-LIS です。", code="partner_code_format"
        )
    validate_lg_code(value)


def validate_katakana(value: str) -> None:
    """A stored カナ must already be full-width katakana (forms and services fold input with `kana.fold_kana`)."""
    if not value:
        raise ValidationError("カナを入力してください。", code="kana_required")
    bad = kana.invalid_kana_characters(value)
    if bad:
        raise ValidationError(
            "カナに使えない文字があります：%(chars)s。全角カタカナ（ひらがな・半角カナも可）で入力してください。",
            code="kana_invalid",
            params={"chars": "「" + "」「".join(bad) + "」"},
        )


def clean_kana(value: str) -> str:
    """Fold input (hiragana, half-width) to full-width katakana, or raise the clerk-facing error."""
    folded = kana.fold_kana(value)
    validate_katakana(folded)
    return folded


def validate_name_part(value: str) -> None:
    """氏 or 名: any kanji including variation sequences, kana; never latin, digits, spaces or private-use 外字."""
    problems = names.name_problems(value)
    if problems:
        raise ValidationError(problems, code="name_invalid")
