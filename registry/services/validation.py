"""Turning what a clerk (or an inbound notice) supplies about a person into clean values, or Japanese messages."""

import dataclasses
import datetime as dt

from django.core.exceptions import ValidationError

from common.models import Municipality
from common.validators import clean_kana, validate_juminhyo_code, validate_name_part

from ..choices import Sex
from ..relationships import normalise, validate_relationship
from ..rules import Problems


def _messages(exc: ValidationError) -> list[str]:
    return list(exc.messages)


def clean_name(problems: Problems, field: str, value: str) -> str:
    value = value.strip()
    try:
        validate_name_part(value)
    except ValidationError as exc:
        problems.extend(field, _messages(exc))
    return value


def clean_kana_field(problems: Problems, field: str, value: str) -> str:
    try:
        return clean_kana(value)
    except ValidationError as exc:
        problems.extend(field, _messages(exc))
        return value


def clean_relationship(problems: Problems, field: str, value: str) -> str:
    value = normalise(value)
    try:
        validate_relationship(value)
    except ValidationError as exc:
        problems.extend(field, _messages(exc))
    return value


def clean_code(problems: Problems, field: str, value: str) -> str:
    value = value.strip()
    if value:
        try:
            validate_juminhyo_code(value)
        except ValidationError as exc:
            problems.extend(field, _messages(exc))
    return value


def clean_sex(problems: Problems, field: str, value: str) -> str:
    if value not in Sex.values:
        problems.add(field, "性別を選んでください。")
    return value


def municipality_or_problem(problems: Problems, field: str, code: str | None, *, required: bool) -> Municipality | None:
    if not code:
        if required:
            problems.add(field, "市区町村を指定してください。")
        return None
    found = Municipality.objects.filter(code=code).first()
    if found is None:
        problems.add(field, f"地方公共団体コード {code} は登録されていません。")
    return found


def check_date_type(problems: Problems, field: str, value: object) -> None:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        problems.add(field, "日付を入力してください。")


def prefixed(index: int | None, field: str) -> str:
    return field if index is None else f"persons[{index}].{field}"


def replace(obj, **changes):
    return dataclasses.replace(obj, **changes)
