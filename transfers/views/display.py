"""How the notice screens present things: partner names, ages, overdue marks, payloads as tables of labelled items,
the actions a waiting inbound notice offers, and key fingerprints. No queries of personal data here."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from audit.visibility import hidden_names, mask_names
from common.models import Municipality
from common.wareki import to_wareki_with_seireki
from koseki_fuhyo.choices import FilingKind, FuhyoRecordKind
from registry.choices import ChangeClass, ChangeReason

from .. import payloads
from ..models import InboundNotice, OutboundNotice, Partner
from ..routing import JLIS, NoticeKind

JLIS_NAME = "J-LIS（地方公共団体情報システム機構）"

# --- Partners ------------------------------------------------------------------------------------------------


def partner_names(codes: Iterable[str]) -> dict[str, str]:
    """Display names of receivers / senders: the municipality name, J-LIS, or the partner table's name."""
    codes = {c for c in codes if c}
    names = dict(Partner.objects.filter(code__in=codes).values_list("code", "name"))
    for municipality in Municipality.objects.filter(code__in=codes):
        names[municipality.code] = municipality.full_name
    if JLIS in codes:
        names[JLIS] = JLIS_NAME
    return {code: names.get(code, "（不明な相手）") for code in codes}


def fingerprint(key_b64: str) -> str:
    """First 8 hex characters of the SHA-256 of a raw public key (base64): enough to compare by telephone."""
    try:
        raw = base64.b64decode(key_b64, validate=True)
    except (binascii.Error, ValueError):
        return "（読めない鍵）"
    return hashlib.sha256(raw).hexdigest()[:8]


# --- Age and overdue ---------------------------------------------------------------------------------------------


def age_text(since: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """「3分」「2時間15分」「4日」: how long ago, coarse enough to read at a glance."""
    if since is None:
        return ""
    seconds = max(0, int(((now or timezone.now()) - since).total_seconds()))
    if seconds < 60:
        return f"{seconds}秒"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}分"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}時間{minutes}分" if minutes else f"{hours}時間"
    return f"{hours // 24}日"


def overdue_after() -> dt.timedelta:
    return dt.timedelta(seconds=settings.TRANSFERS_OVERDUE_AFTER)


UNACKNOWLEDGED = (OutboundNotice.State.PENDING, OutboundNotice.State.SENDING, OutboundNotice.State.SENT)
NEEDS_ATTENTION = (OutboundNotice.State.FAILED, OutboundNotice.State.UNCONNECTED)  # at once, whatever their age


def overdue_q(now: dt.datetime | None = None) -> Q:
    """Failed notices, those set aside because the receiver is not connected, and those still unacknowledged
    TRANSFERS_OVERDUE_AFTER seconds after they were written."""
    cutoff = (now or timezone.now()) - overdue_after()
    return Q(state__in=NEEDS_ATTENTION) | Q(state__in=UNACKNOWLEDGED, created_at__lte=cutoff)


def is_overdue(notice: OutboundNotice, now: dt.datetime | None = None) -> bool:
    if notice.state in NEEDS_ATTENTION:
        return True
    return notice.state in UNACKNOWLEDGED and notice.created_at <= (now or timezone.now()) - overdue_after()


# --- Payloads as tables -----------------------------------------------------------------------------------------

# Used when a schema has no title for an item (older versions, unknown kinds).
FALLBACK_LABELS = {
    "person": "本人",
    "change": "異動",
    "before": "異動前の項目",
    "filing": "届出",
    "juminhyo_code": "住民票コード",
    "surname": "氏",
    "given_name": "名",
    "surname_kana": "氏（カナ）",
    "given_name_kana": "名（カナ）",
    "birth_date": "生年月日",
    "sex": "性別",
    "honseki_municipality": "本籍の市区町村",
    "honseki_address": "本籍",
    "hittousha_name": "筆頭者",
    "address_municipality": "住所の市区町村",
    "address": "住所",
    "katagaki": "方書",
    "address_established_on": "住所を定めた年月日",
    "reason": "事由",
    "in_reply_to": "応答元の通知ID",
    "differences": "相違点",
    "koseki_values": "戸籍の値",
    "item": "項目",
    "notified": "通知の値",
    "koseki": "戸籍の値",
    "found": "戸籍に在籍",
}
SEX_LABELS = {"1": "男", "2": "女"}


@dataclass(frozen=True)
class PayloadRow:
    path: str  # "person.surname"
    label: str  # "本人 / 氏"
    value: str
    depth: int


def _titles(kind: str, version: int) -> dict[str, str]:
    """Japanese item names from the schema of the kind (transfers.payloads), or none when it has no schema."""
    try:
        return payloads.item_titles(kind, version)
    except Exception:  # noqa: BLE001 - an unknown kind or version still shows, with the fallback labels
        return {}


# Items whose value is a code: shown with its name (the code stays beside it, as clerks quote codes on the phone).
MUNICIPALITY_ITEMS = frozenset({"honseki_municipality", "address_municipality", "municipality"})
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@functools.lru_cache(maxsize=1)
def _code_labels() -> dict[str, dict[str, str]]:
    return {
        "reason": dict(ChangeReason.choices),
        "change_class": dict(ChangeClass.choices),
        "record_kind": dict(FuhyoRecordKind.choices),
        "kind": dict(FilingKind.choices),
        "role": {},
    }


def _municipality_name(code: str) -> str:
    if code == JLIS:
        return JLIS_NAME
    municipality = Municipality.objects.filter(code=code).first()
    return f"{municipality.full_name}（{code}）" if municipality else code


def _text(value: Any, key: str) -> str:
    """One value as a clerk reads it: dates in 和暦 with 西暦, codes with their names, 性別 in words."""
    if value is None or value == "":
        return "（なし）"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if key == "sex" and str(value) in SEX_LABELS:
        return SEX_LABELS[str(value)]
    if isinstance(value, str):
        if ISO_DATE.match(value):
            try:
                return to_wareki_with_seireki(dt.date.fromisoformat(value))
            except ValueError:
                return value
        if key in MUNICIPALITY_ITEMS:
            return _municipality_name(value)
        label = _code_labels().get(key, {}).get(value)
        if label:
            return label
    return str(value)


def item_rank(kind: str, version: int, path: str) -> int:
    """Where an item stands in its schema (the order the notice documents it in); unknown items go last."""
    try:
        order = payloads.item_order(kind, version)
    except Exception:  # noqa: BLE001 - unknown kind or version: keep the payload's own order
        return 0
    return order.get(path, len(order))


def _short_label(labels: list[str]) -> str:
    """An item under a group row is named by itself (the group row above says what it belongs to); an item of a
    list keeps its number."""
    if len(labels) >= 2 and labels[-2].isdigit():
        return " / ".join(labels[-2:])
    return labels[-1] if labels else ""


def payload_rows(kind: str, version: int, payload: Any) -> list[PayloadRow]:
    """The payload flattened into labelled rows, in its own order (nested objects indented)."""
    titles = _titles(kind, version)
    rows: list[PayloadRow] = []

    def rank(path: str) -> int:
        return item_rank(kind, version, path)

    def label_of(path: str, schema_path: str, key: str) -> str:
        return titles.get(schema_path) or FALLBACK_LABELS.get(key) or key

    def walk(value: Any, path: str, schema_path: str, labels: list[str], depth: int) -> None:
        if isinstance(value, dict):
            # JSONB keeps keys in its own order: show them in the order the schema documents them.
            items = sorted(value.items(), key=lambda kv: rank(f"{schema_path}.{kv[0]}" if schema_path else kv[0]))
            for key, sub in items:
                sub_path = f"{path}.{key}" if path else str(key)
                sub_schema = f"{schema_path}.{key}" if schema_path else str(key)
                label = label_of(sub_path, sub_schema, str(key))
                if isinstance(sub, dict | list) and sub:
                    rows.append(PayloadRow(sub_path, " / ".join([*labels, label]), "", depth))
                walk(sub, sub_path, sub_schema, [*labels, label], depth + 1)
        elif isinstance(value, list):
            if not value:
                rows.append(PayloadRow(path, " / ".join(labels), "（なし）", depth))
            for number, sub in enumerate(value, start=1):
                walk(sub, f"{path}[{number - 1}]", f"{schema_path}[]", [*labels, f"{number}"], depth)
        else:
            key = path.rsplit(".", 1)[-1]
            rows.append(PayloadRow(path, _short_label(labels), _text(value, key), max(0, depth - 1)))

    walk(payload, "", "", [], 0)
    return rows


# --- The inbox: side by side and the actions ------------------------------------------------------------------


@dataclass(frozen=True)
class CompareRow:
    item: str
    label: str
    notified: str
    ours: str
    differs: bool


def _ours(difference: dict) -> Any:
    """Our register's value: the 戸籍 side (附票記載事項通知) or the 住民票 side (住民票記載事項通知)."""
    return difference["koseki"] if "koseki" in difference else difference.get("juminhyo")


def masked_for(user, rows: list[PayloadRow] | list[CompareRow]) -> list:
    """The rows with the name of every person restricted for `user` replaced by 「閲覧制限のある方」: a notice about
    one person can name another (the 世帯主 of a 転入, before and after), who is not the person the page opened."""
    names = hidden_names(user)
    if not names:
        return list(rows)
    masked: list = []
    for row in rows:
        if isinstance(row, CompareRow):
            masked.append(replace(row, notified=mask_names(row.notified, names), ours=mask_names(row.ours, names)))
        else:
            masked.append(replace(row, value=mask_names(row.value, names)))
    return masked


def compare_rows(inbound: InboundNotice) -> list[CompareRow]:
    """The notified items beside our register's values: every item of `differences` (which carries both), then the
    other items of the notified person, which agreed (or could not be compared when no record was found)."""
    found = inbound.resident_id is not None or inbound.fuhyo_entry_id is not None
    titles = _titles(inbound.kind, inbound.schema_version)
    rows: list[CompareRow] = []
    seen: set[str] = set()
    for difference in inbound.differences or []:
        item = str(difference.get("item", ""))
        seen.add(item)
        label = difference.get("label") or titles.get(f"person.{item}") or FALLBACK_LABELS.get(item, item)
        rows.append(
            CompareRow(
                item,
                label,
                _text(difference.get("notified"), item),
                _text(_ours(difference), item),
                True,
            )
        )
    person = (inbound.payload or {}).get("person") if isinstance(inbound.payload, dict) else None
    if isinstance(person, dict):
        for item, value in person.items():
            if item in seen or isinstance(value, dict | list):
                continue
            item_label = titles.get(f"person.{item}") or FALLBACK_LABELS.get(item, str(item))  # JSON keys: str
            text = _text(value, item)
            rows.append(CompareRow(item, item_label, text, "（一致）" if found else "（該当する記録なし）", False))
    # The items in the order of the notice's schema (氏, 名, カナ, 生年月日 …), differing ones highlighted in place.
    return sorted(rows, key=lambda row: item_rank(inbound.kind, inbound.schema_version, f"person.{row.item}"))


@dataclass(frozen=True)
class InboxAction:
    key: str
    label: str
    note_required: bool
    kinds: tuple[str, ...] | None = None  # None: every kind


INBOX_ACTIONS: tuple[InboxAction, ...] = (
    InboxAction(
        "confirm",
        "職権処理を確定",
        False,
        (NoticeKind.JUMINHYO_ITEMS, NoticeKind.FUHYO_ITEMS, NoticeKind.MOVE_IN, NoticeKind.HONSEKI_TRANSFER),
    ),
    InboxAction("send_honseki_check", "本籍照合通知を送る", False, (NoticeKind.FUHYO_ITEMS,)),
    InboxAction("mark_corrected", "修正済にする", True),
    InboxAction("dismiss", "対応不要として完了", True),
)
INBOX_ACTIONS_BY_KEY = {action.key: action for action in INBOX_ACTIONS}


def actions_for(inbound: InboundNotice) -> list[InboxAction]:
    """What a clerk may do with this notice now: nothing once it is applied or done."""
    if inbound.state != InboundNotice.State.WAITING:
        return []
    actions = [a for a in INBOX_ACTIONS if a.kinds is None or inbound.kind in a.kinds]
    if inbound.authority_refusal:  # our 戸籍's values go only to an entitled 住所地 (transfers.inbox)
        actions = [a for a in actions if a.key != "send_honseki_check"]
    return actions
