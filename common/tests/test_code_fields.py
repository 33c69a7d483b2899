"""Every model field that stores a 住民票コード or a 地方公共団体コード checks its check digit. The fields are found by
what they hold (the verbose name 住民票コード; the verbose name or help text 地方公共団体コード), not from a list, so
a field added tomorrow is held to it the day it is added. Also the test helper that makes valid codes."""

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models

from common.checkdigits import JLIS_CODE, is_valid_juminhyo_code
from common.juminhyo_codes import juminhyo_code_for
from common.models import Municipality
from common.validators import validate_partner_code

# Deliberately wrong codes next to the right ones: the check digit of 1234567890 is 3, of 13104 (新宿区) is 1.
WRONG_JUMINHYO_CODE, RIGHT_JUMINHYO_CODE = "12345678904", "12345678903"
WRONG_LG_CODE, RIGHT_LG_CODE = "131040", "131041"


def _concrete_fields(predicate) -> list[tuple[type[models.Model], models.Field]]:
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.Field) and not field.is_relation and predicate(field)
    ]


def _holds_juminhyo_code(field: models.Field) -> bool:
    return str(field.verbose_name) == "住民票コード"


def _holds_lg_code(field: models.Field) -> bool:
    return str(field.verbose_name) == "地方公共団体コード" or "地方公共団体コード" in str(field.help_text)


JUMINHYO_CODE_FIELDS = _concrete_fields(_holds_juminhyo_code)
LG_CODE_FIELDS = _concrete_fields(_holds_lg_code)


def _id(pair: tuple[type[models.Model], models.Field]) -> str:
    model, field = pair
    return f"{model._meta.label}.{field.name}"


def test_the_fields_of_the_issue_are_found():
    found = {_id(pair) for pair in JUMINHYO_CODE_FIELDS}
    assert found >= {
        "registry.Resident.juminhyo_code",
        "registry.RegisterDiscrepancy.juminhyo_code",
        "koseki_fuhyo.FuhyoEntry.juminhyo_code",
        "koseki_fuhyo.FilingPerson.juminhyo_code",
        "transfers.InboundNotice.juminhyo_code",
        "transfers.OutboundNotice.juminhyo_code",
        "transfers.IdentifierSymbol.juminhyo_code",
        "audit.AccessRestriction.juminhyo_code",
    }
    assert {_id(pair) for pair in LG_CODE_FIELDS} >= {
        "common.Municipality.code",
        "transfers.Partner.code",
        "transfers.InboundNotice.sender",
        "transfers.OutboundNotice.receiver",
    }


@pytest.mark.parametrize("pair", JUMINHYO_CODE_FIELDS, ids=_id)
def test_every_juminhyo_code_field_checks_the_check_digit(pair):
    _model, field = pair
    with pytest.raises(ValidationError) as refused:
        field.clean(WRONG_JUMINHYO_CODE, None)
    assert refused.value.error_list[0].code == "juminhyo_code_check_digit"
    assert "住民票コードの検査数字が正しくありません" in refused.value.messages[0]
    assert field.clean(RIGHT_JUMINHYO_CODE, None) == RIGHT_JUMINHYO_CODE
    if field.blank:  # a row without a code stays allowed where it was
        assert field.clean("", None) == ""


@pytest.mark.parametrize("pair", LG_CODE_FIELDS, ids=_id)
def test_every_lg_code_field_checks_the_check_digit(pair):
    _model, field = pair
    with pytest.raises(ValidationError) as refused:
        field.clean(WRONG_LG_CODE, None)
    assert refused.value.error_list[0].code == "lg_code_check_digit"
    assert "地方公共団体コードの検査数字が正しくありません" in refused.value.messages[0]
    assert field.clean(RIGHT_LG_CODE, None) == RIGHT_LG_CODE


@pytest.mark.parametrize(
    "pair",
    [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.ForeignKey) and field.related_model is Municipality
    ],
    ids=_id,
)
def test_every_municipality_reference_points_at_a_checked_code(pair):
    """A foreign key to the 地方公共団体 table holds a code of that table, whose own field checks the digit."""
    _model, field = pair
    with pytest.raises(ValidationError):
        field.target_field.clean(WRONG_LG_CODE, None)


def test_partner_codes_are_lg_codes_or_jlis():
    validate_partner_code(RIGHT_LG_CODE)
    validate_partner_code(JLIS_CODE)
    for wrong, code in ((WRONG_LG_CODE, "lg_code_check_digit"), ("999999", "lg_code_check_digit")):
        with pytest.raises(ValidationError) as refused:
            validate_partner_code(wrong)
        assert refused.value.error_list[0].code == code
    for malformed in ("13104", "j-lis", "x" * 10, "１３１０４１"):
        with pytest.raises(ValidationError) as refused:
            validate_partner_code(malformed)
        assert refused.value.error_list[0].code == "partner_code_format"


def test_juminhyo_code_for_makes_readable_valid_codes():
    assert juminhyo_code_for(1234567890) == "12345678903"  # domain.md §4.1's worked example
    assert juminhyo_code_for(1) == "00000000019"
    codes = [juminhyo_code_for(n) for n in range(2000)]
    assert all(is_valid_juminhyo_code(code) for code in codes)
    assert len(set(codes)) == len(codes)
    assert codes == sorted(codes)  # in the order of n
    assert juminhyo_code_for(42) == juminhyo_code_for(42)
    for bad in (-1, 10**10, True, 1.0, "1"):
        with pytest.raises(ValueError, match="integer"):
            juminhyo_code_for(bad)  # type: ignore[arg-type]
