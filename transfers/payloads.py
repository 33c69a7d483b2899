"""Notice payloads: one versioned JSON schema per kind (docs/schemas/<kind>.v<N>.schema.json), the builders that
shape each payload from a change event, and the check every payload passes on its way out and in.

The schemas are the contract with the receivers (docs/notices.md): only the items the ward paper lists for the
exchange, never an internal id (resident_id, household_number, fuhyo_entry_id, koseki_id …) and never a
情報提供用個人識別符号 outside a J-LIS acknowledgement. Names travel as the registers hold them: Unicode with
variation sequences and supplementary-plane kanji intact, never normalised (converting them to
住基ネット統一文字 belongs to the CS adapter).

A new version of a kind is a new file; `CURRENT_VERSION` says which one this ward writes, and a receiver accepts
every version it has a file for. An item the register does not hold is `null`, never an empty string.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from common.checkdigits import (
    is_valid_juminhyo_code,
    is_valid_lg_code,
    juminhyo_code_check_digit,
    lg_code_check_digit,
)
from common.items import IDENTITY_ITEMS, JUMINHYO_CHANGE_ITEMS, KOSEKI_CHECK_ITEMS, identity_items

if TYPE_CHECKING:
    from koseki_fuhyo.models import FuhyoEntry

# docs/schemas of the project (the image copies it too); found without Django settings, for the simulators.
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "schemas"
_FILE_NAME = re.compile(r"^(?P<kind>[a-z_]+)\.v(?P<version>[1-9][0-9]*)\.schema\.json$")

# The version this ward writes, per kind (the notice kinds of transfers.routing.NoticeKind, and the ack).
CURRENT_VERSION: dict[str, int] = {
    "move_in_notice": 1,
    "juminhyo_items": 1,
    "fuhyo_items": 1,
    "honseki_check": 1,
    "honseki_transfer": 1,
    "jlis_fuhyo": 1,
    "ack": 1,
}


class PayloadError(Exception):
    """A payload that does not match its schema (or names a kind or version that has none). Raised on the way out
    it is a programming error: the service's transaction rolls back; on the way in the message is refused."""

    def __init__(self, messages: list[str]):
        self.messages = list(messages)
        super().__init__("\n".join(self.messages))


# --- Schemas ----------------------------------------------------------------------------------------------------


@cache
def _files() -> dict[tuple[str, int], Path]:
    found = {}
    for path in SCHEMA_DIR.glob("*.schema.json"):
        match = _FILE_NAME.match(path.name)
        if match:
            found[(match["kind"], int(match["version"]))] = path
    return found


def versions(kind: str) -> list[int]:
    """Every version of `kind` this system has a schema for (a receiver accepts each of them)."""
    return sorted(version for k, version in _files() if k == kind)


@cache
def schema(kind: str, version: int) -> dict[str, Any]:
    """The JSON schema of `kind` in `version`, read once from docs/schemas."""
    if not versions(kind):
        raise PayloadError([f"通知の種類「{kind}」の様式は定義されていません。"])
    path = _files().get((kind, version))
    if path is None:
        known = "、".join(f"第{v}版" for v in versions(kind))
        raise PayloadError([f"通知の種類「{kind}」の様式 第{version}版は定義されていません（定義済み: {known}）。"])
    return json.loads(path.read_text(encoding="utf-8"))


JUMINHYO_CODE_FORMAT = "juminhyo-code"  # the schemas' "format" of a 住民票コード: 11 digits, the last its check digit
LG_CODE_FORMAT = "lg-code"  # of a 地方公共団体コード: 6 digits, the last its check digit


def _format_checker() -> FormatChecker:
    """Dates and UUIDs as jsonschema checks them, and the check digits of the two codes (common.checkdigits). A
    value that is not a string is left to `type`; one of the wrong length or with other characters fails its pattern
    too, and the pattern is what the message names."""
    checker = FormatChecker(["date", "uuid"])

    @checker.checks(JUMINHYO_CODE_FORMAT)
    def _juminhyo_code(value: object) -> bool:
        return not isinstance(value, str) or is_valid_juminhyo_code(value)

    @checker.checks(LG_CODE_FORMAT)
    def _lg_code(value: object) -> bool:
        return not isinstance(value, str) or is_valid_lg_code(value)

    return checker


FORMAT_CHECKER = _format_checker()


@cache
def _validator(kind: str, version: int) -> Draft202012Validator:
    return Draft202012Validator(schema(kind, version), format_checker=FORMAT_CHECKER)


def validate(kind: str, version: int, payload: dict[str, Any]) -> None:
    """Raise PayloadError, with one Japanese message per wrong item, unless `payload` matches the schema."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise PayloadError([f"様式の版「{version}」は整数ではありません。"])
    validator = _validator(kind, version)
    errors = sorted(validator.iter_errors(payload), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    # a malformed date breaks its pattern and its format: say it once, as the pattern
    malformed = {tuple(e.absolute_path) for e in errors if e.validator == "pattern"}
    errors = [e for e in errors if not (e.validator == "format" and tuple(e.absolute_path) in malformed)]
    if errors:
        titles = item_titles(kind, version)
        messages = [message for error in errors for message in _messages(error, titles)]
        raise PayloadError(list(dict.fromkeys(messages)))


# --- Japanese messages --------------------------------------------------------------------------------------------


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref", "")
    if ref.startswith("#/$defs/"):
        return {**root["$defs"][ref.removeprefix("#/$defs/")], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


@cache
def _items(kind: str, version: int) -> tuple[tuple[str, str], ...]:
    """Every item of the schema as (path, title), in document order: "person.birth_date", "differences[].item"."""
    root = schema(kind, version)
    items: dict[str, str] = {}

    def walk(node: dict[str, Any], prefix: str, depth: int = 0) -> None:
        if depth > 8:
            return
        node = _resolve(node, root)
        for branch in node.get("anyOf", []) + node.get("oneOf", []):
            walk(branch, prefix, depth + 1)
        for name, sub in node.get("properties", {}).items():
            path = f"{prefix}.{name}" if prefix else name
            title = sub.get("title") or _resolve(sub, root).get("title") or ""
            if not items.get(path):
                items[path] = title
            walk(sub, path, depth + 1)
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{prefix}[]", depth + 1)

    walk(root, "")
    return tuple(items.items())


@cache
def item_titles(kind: str, version: int) -> dict[str, str]:
    """Japanese names of the items by path, from the schema titles (items without a title are left out)."""
    return {path: title for path, title in _items(kind, version) if title}


@cache
def item_order(kind: str, version: int) -> dict[str, int]:
    """The position of every item path ("person.surname") in the schema, in document order: screens show a
    notice's items in this order whatever order the database returns the JSON keys in."""
    return {path: position for position, (path, _title) in enumerate(_items(kind, version))}


def _path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _label(parts, titles: dict[str, str]) -> str:
    path = _path(parts)
    if not path:
        return "通知の内容"
    title = titles.get(re.sub(r"\[\d+\]", "[]", path))
    return f"「{path}」（{title}）" if title else f"「{path}」"


_PATTERN_MEANING = {
    "^[0-9]{6}$": "地方公共団体コードは6桁の数字です",
    "^[0-9]{11}$": "住民票コードは11桁の数字です",
}
_TYPE_NAMES = {
    "string": "文字列",
    "null": "null",
    "object": "オブジェクト",
    "array": "配列",
    "boolean": "真偽値",
    "integer": "整数",
    "number": "数値",
}


def _type_names(expected) -> str:
    expected = expected if isinstance(expected, list) else [expected]
    return "または".join(_TYPE_NAMES.get(t, t) for t in expected)


def _check_digit_message(where: str, format_name: str, value: str) -> str:
    """The refusal of a code whose last digit is not its check digit; the code itself is not repeated (a 住民票コード
    is not written where it need not be), the expected digit is."""
    name, compute, size = (
        ("住民票コード", juminhyo_code_check_digit, 11)
        if format_name == JUMINHYO_CODE_FORMAT
        else ("地方公共団体コード", lg_code_check_digit, 6)
    )
    try:
        expected = compute(value[: size - 1]) if len(value) == size else None
    except ValueError:
        expected = None
    if expected is None:
        return f"{where}は{name}の形式ではありません（半角数字{size}桁）。"
    return f"{where}：{name}の検査数字が正しくありません（末尾は {expected} のはずです）。"


def _messages(error: ValidationError, titles: dict[str, str]) -> list[str]:
    parts = list(error.absolute_path)
    where = _label(parts, titles)
    kind = error.validator
    if kind in ("anyOf", "oneOf") and error.context:
        # "x or null": report what is wrong with x, not that the value is not null either
        relevant = [e for e in error.context if not (e.validator == "type" and e.validator_value == "null")]
        return [m for e in relevant for m in _messages(e, titles)] or [f"{where}の形が様式に合いません。"]
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return [f"{_label([*parts, missing], titles)}がありません（必須の項目です）。"]
    if kind == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - allowed) if isinstance(error.instance, dict) else []
        names = "、".join(f"「{_path([*parts, name])}」" for name in extra)
        return [f"{names}は様式にない項目です（{where}には書けません）。"]
    if kind == "type":
        return [f"{where}の型が違います（{_type_names(error.validator_value)}であるべきところです）。"]
    if kind == "pattern":
        meaning = _PATTERN_MEANING.get(error.validator_value)
        if meaning is None and error.validator_value.startswith("^[0-9]{4}-"):
            meaning = "年月日は YYYY-MM-DD の形で書きます"
        if meaning is None:
            meaning = "通知IDは小文字の UUID です"
        return [f"{where}の値「{error.instance}」は形式が違います（{meaning}）。"]
    if kind == "format" and error.validator_value in (JUMINHYO_CODE_FORMAT, LG_CODE_FORMAT):
        return [_check_digit_message(where, error.validator_value, error.instance)]
    if kind == "format":
        what = "存在しない日付" if error.validator_value == "date" else "正しくない UUID"
        return [f"{where}の値「{error.instance}」は{what}です。"]
    if kind in ("enum", "const"):
        values = error.validator_value if kind == "enum" else [error.validator_value]
        shown = "、".join("null" if a is None else str(a) for a in values)
        return [f"{where}の値「{error.instance}」は使えません（使える値: {shown}）。"]
    if kind == "minLength":
        return [f"{where}が空です（項目がないときは null にします）。"]
    if kind == "maxLength":
        return [f"{where}が長すぎます（{error.validator_value}文字まで）。"]
    if kind == "minProperties":
        return [f"{where}に項目が一つもありません。"]
    if kind == "maxItems":
        return [f"{where}は空でなければなりません（戸籍に見つからないときは合わない項目を書きません）。"]
    if kind == "dependentRequired":
        needed, present = ([*re.findall(r"'([^']+)'", error.message), "", ""])[:2]
        return [f"{_label([*parts, present], titles)}があるときは{_label([*parts, needed], titles)}も必要です。"]
    return [f"{where}が様式に合いません（{kind}）。"]


# --- Builders: from the event payloads of the registers to the notice payloads ----------------------------------


def _or_none(value: Any) -> Any:
    """An item the register leaves blank travels as null."""
    return None if value in ("", None) else value


def _iso(value: dt.date | str | None) -> str | None:
    if isinstance(value, dt.date):
        return value.isoformat()
    return _or_none(value)


def _identity(items: dict[str, Any]) -> dict[str, Any]:
    return {item: _iso(items[item]) if item == "birth_date" else items[item] for item in IDENTITY_ITEMS}


def subject_code(payload: object) -> str:
    """The one reading of the 住民票コード a notice is about (outbox and inbox rows, handlers, authority):
    `person.juminhyo_code` (every kind but one) or `juminhyo_code` (本籍照合通知); "" when there is none (such a
    notice is not ordered)."""
    if not isinstance(payload, dict):
        return ""
    person = payload.get("person")
    code = person.get("juminhyo_code") if isinstance(person, dict) else None
    code = code or payload.get("juminhyo_code")
    return code if isinstance(code, str) and len(code) <= 11 else ""


def person_from_resident_items(items: dict[str, Any]) -> dict[str, Any]:
    """The flat person of a 住民票 of this ward (registry.payloads.resident_items): its 住所地 is this ward."""
    return {
        "juminhyo_code": _or_none(items.get("juminhyo_code")),
        **_identity(items),
        "honseki_municipality": _or_none(items.get("honseki_municipality")),
        "honseki_address": _or_none(items.get("honseki_address")),
        "hittousha_name": _or_none(items.get("hittousha_name")),
        "address_municipality": settings.WARD_LG_CODE,
        "address": _or_none(items.get("address")),
        "katagaki": _or_none(items.get("katagaki")),
        "address_established_on": _iso(items.get("address_established_on")),
    }


def person_from_fuhyo_items(items: dict[str, Any], honseki: dict[str, Any]) -> dict[str, Any]:
    """The flat person of a 附票 row (koseki_fuhyo.payloads.fuhyo_items) with the 本籍 `honseki`
    ({"municipality", "address", "hittousha_name"}). The 附票 address holds the 方書, so katagaki is null; a
    国外転出者 has no address municipality (see `abroad_of`)."""
    address = items.get("address") or {}
    return {
        "juminhyo_code": _or_none(items.get("juminhyo_code")),
        **_identity(items),
        "honseki_municipality": _or_none(honseki.get("municipality")),
        "honseki_address": _or_none(honseki.get("address")),
        "hittousha_name": _or_none(honseki.get("hittousha_name")),
        "address_municipality": None if address.get("is_abroad") else _or_none(address.get("municipality")),
        "address": _or_none(address.get("address")),
        "katagaki": None,
        "address_established_on": _iso(address.get("established_on")),
    }


def abroad_of(items: dict[str, Any]) -> dict[str, Any] | None:
    """国外転出者である旨 of a 附票 row: {"country"} when its current address is abroad, else None."""
    address = items.get("address") or {}
    return {"country": _or_none(address.get("country"))} if address.get("is_abroad") else None


def _change(change: dict[str, Any], *, with_class: bool) -> dict[str, Any]:
    out = {"reason": change["reason"]}
    if with_class:
        out["change_class"] = change["change_class"]
    out |= {
        "change_date": _iso(change["change_date"]),
        "notified_on": _iso(change.get("notified_on")),
        "previous_address": _or_none(change.get("previous_address")),
        "new_address": _or_none(change.get("new_address")),
    }
    return out


def move_in_payload(event_payload: dict[str, Any]) -> dict[str, Any]:
    """転入通知 (9条1項) from a `resident.entered` event of a 転入."""
    return {
        "person": person_from_resident_items(event_payload["person"]),
        "change": _change(event_payload["change"], with_class=False),
    }


def fuhyo_items_payload(event_payload: dict[str, Any]) -> dict[str, Any]:
    """附票記載事項通知 (19条1項) from a `resident.*` event (before: the items before an amendment, else null)."""
    before = event_payload.get("before")
    return {
        "person": person_from_resident_items(event_payload["person"]),
        "change": _change(event_payload["change"], with_class=True),
        "before": person_from_resident_items(before) if before else None,
    }


def filing_header(event_payload: dict[str, Any]) -> dict[str, Any]:
    """The 戸籍届出 of a `koseki.filed` event: 届出事件, 届出年月日, 受理年月日."""
    return {
        "kind": event_payload["kind"],
        "filed_on": _iso(event_payload["filed_on"]),
        "accepted_on": _iso(event_payload["accepted_on"]),
    }


def juminhyo_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """The 住民票 items the 住所地 must write (filings' juminhyo_changes): new 氏名・カナ・本籍・筆頭者, the filing
    that 記載s or 消除s the person, and the day of the 死亡・失踪・国籍喪失 ("date" in the event)."""
    out = {item: changes[item] for item in JUMINHYO_CHANGE_ITEMS if _or_none(changes.get(item)) is not None}
    if changes.get("date"):
        out["removed_on"] = _iso(changes["date"])
    return out


def juminhyo_items_payload(event_payload: dict[str, Any], person: dict[str, Any]) -> dict[str, Any]:
    """住民票記載事項通知 (9条2項) for one person of a `koseki.filed` event."""
    return {
        "filing": filing_header(event_payload),
        "person": {
            "role": person["role"],
            "juminhyo_code": _or_none(person.get("juminhyo_code")),
            "surname": person["surname"],
            "given_name": person["given_name"],
            "surname_kana": _or_none(person.get("surname_kana")),
            "given_name_kana": _or_none(person.get("given_name_kana")),
            "birth_date": _iso(person.get("birth_date")),
            "sex": _or_none(person.get("sex")),
            "address": _or_none(person.get("address")),
            "changes": juminhyo_changes(person.get("juminhyo_changes") or {}),
            "removed": bool(person.get("removed")),
        },
    }


def honseki_transfer_payload(event_payload: dict[str, Any], person: dict[str, Any]) -> dict[str, Any]:
    """本籍転属通知 (19条3項) for one person of a `koseki.filed` event whose 本籍 left the ward: the person's 附票
    items (fuhyo_left_ward) with the new 本籍, the old and the new 本籍."""
    items = person["fuhyo_left_ward"]
    changes = person.get("juminhyo_changes") or {}
    new_honseki = {
        "municipality": changes["honseki_municipality"],
        "address": changes["honseki_address"],
        "hittousha_name": changes["hittousha_name"],
    }
    return {
        "filing": filing_header(event_payload),
        "person": person_from_fuhyo_items(items, new_honseki),
        "abroad": abroad_of(items),
        "old_honseki": {
            "municipality": settings.WARD_LG_CODE,
            "address": items["honseki_address"],
            "hittousha_name": items["hittousha_name"],
        },
        "new_honseki": new_honseki,
    }


def jlis_fuhyo_payload(event_payload: dict[str, Any]) -> dict[str, Any]:
    """附票本人確認情報 for J-LIS from a `fuhyo.*` event (koseki_fuhyo.payloads.fuhyo_items)."""
    address = event_payload.get("address")
    return {
        "record_kind": event_payload["record_kind"],
        "reason": event_payload["reason"],
        "recorded_on": _iso(event_payload["recorded_on"]),
        "person": {
            "juminhyo_code": _or_none(event_payload.get("juminhyo_code")),
            "surname": event_payload["surname"],
            "given_name": event_payload["given_name"],
            "surname_kana": event_payload["surname_kana"],
            "given_name_kana": event_payload["given_name_kana"],
            "birth_date": _iso(event_payload["birth_date"]),
            "sex": event_payload["sex"],
            "honseki_address": event_payload["honseki_address"],
            "hittousha_name": event_payload["hittousha_name"],
            "address": None
            if not address
            else {
                "municipality": None if address.get("is_abroad") else _or_none(address.get("municipality")),
                "address": _or_none(address.get("address")),
                "is_abroad": bool(address.get("is_abroad")),
                "country": _or_none(address.get("country")),
                "established_on": _iso(address["established_on"]),
            },
        },
    }


def koseki_values_of(entry: FuhyoEntry) -> dict[str, Any]:
    """The identity items of a 附票 row and its 戸籍, as the 本籍照合通知 shows them."""
    return {
        **identity_items(entry),
        "honseki_address": entry.koseki.honseki_address,
        "hittousha_name": entry.koseki.hittousha_name,
    }


def honseki_check_payload(
    in_reply_to: uuid.UUID | str, notified: dict[str, Any], koseki_values: dict[str, Any] | None
) -> dict[str, Any]:
    """本籍照合通知 (19条2項), sent by a clerk in answer to the 附票記載事項通知 `in_reply_to`: `notified` is the
    flat person it carried, `koseki_values` what our 戸籍 and 附票 hold (`koseki_values_of`), or None when the
    person is not in them. The differences are computed item by item."""
    differences = []
    if koseki_values is not None:
        for item in KOSEKI_CHECK_ITEMS:
            ours, theirs = _iso(koseki_values.get(item)), _iso(notified.get(item))
            if ours != theirs:
                differences.append({"item": item, "notified": theirs, "koseki": ours})
    return {
        "in_reply_to": str(uuid.UUID(str(in_reply_to))),
        "juminhyo_code": notified["juminhyo_code"],
        "found": koseki_values is not None,
        "differences": differences,
        "koseki_values": None
        if koseki_values is None
        else {item: _iso(koseki_values[item]) for item in KOSEKI_CHECK_ITEMS},
    }


def ack_payload(in_reply_to: uuid.UUID | str, status: str, symbol: dict[str, str] | None = None) -> dict[str, Any]:
    """The body of an acknowledgement; `symbol` ({"juminhyo_code", "symbol"}) from J-LIS only."""
    body: dict[str, Any] = {"in_reply_to": str(uuid.UUID(str(in_reply_to))), "status": status}
    if symbol:
        body["symbol"] = {"juminhyo_code": symbol["juminhyo_code"], "symbol": symbol["symbol"]}
    return body
