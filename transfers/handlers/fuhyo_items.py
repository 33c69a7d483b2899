"""附票記載事項通知 (住基法19条1項) received: this ward is the 本籍地.

The person is looked up in our 附票 by 住民票コード. When found and every identity item agrees with the 戸籍 (氏名,
カナ, 生年月日, 性別, 本籍, 筆頭者), the 附票 is brought in line automatically through koseki_fuhyo.services.fuhyo
(which raises the J-LIS update); otherwise the notice waits for a clerk with the differences side by side, who
confirms it (`confirm`) or answers with a 本籍照合通知.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.conf import settings

from common.errors import ServiceError
from common.items import IDENTITY_ITEMS
from common.models import Municipality
from koseki_fuhyo.choices import EntryStatus, KosekiStatus
from koseki_fuhyo.models import FuhyoEntry
from koseki_fuhyo.services.fuhyo import AddressData, amend_person, current_entry_for_code, record_address
from registry.addresses import with_katagaki
from registry.choices import ChangeReason, reason_label

from .base import Outcome, difference, parse_date, refuse_unless_applied, same, today

NOT_FOUND = "この区の戸籍の附票に、住民票コードの一致する在籍者が見つかりません。"
MISMATCH = "通知された項目が戸籍・附票の記載と合いません。確認してください。"
_ABROAD = re.compile(r"^国外（(?P<country>.*)）$")


def _honseki_left_ward(person: dict[str, Any], before: dict[str, Any] | None) -> bool:
    ward = settings.WARD_LG_CODE
    return person.get("honseki_municipality") != ward and bool(before) and before.get("honseki_municipality") == ward


def find_entry(person: dict[str, Any], before: dict[str, Any] | None) -> FuhyoEntry | None:
    """The current 附票 row the notice is about: by the notified 住民票コード, else by the one before the change, else
    (a row that has no 住民票コード yet) by identity within the 戸籍 the notice names."""
    for code in dict.fromkeys([person.get("juminhyo_code"), (before or {}).get("juminhyo_code")]):
        entry = current_entry_for_code(code or "", lock=True)
        if entry is not None:
            return entry
    return entry_without_code(person)


def entry_without_code(person: dict[str, Any]) -> FuhyoEntry | None:
    """A 附票 row without a 住民票コード (a spouse from outside the ward, a child living elsewhere) is
    matched on 氏名 + 生年月日 + 性別 within the 戸籍 the notice names (本籍 and 筆頭者, in this ward). Exactly one
    candidate or none: two alike wait for a clerk. `apply` then writes the notified code to the row (17条7号)."""
    birth_date = parse_date(person.get("birth_date"))
    if person.get("honseki_municipality") != settings.WARD_LG_CODE or birth_date is None:
        return None
    candidates = [
        entry
        for entry in FuhyoEntry.objects.select_for_update(of=("self",))
        .select_related("koseki")
        .filter(
            juminhyo_code="",
            status=EntryStatus.CURRENT,
            koseki__status=KosekiStatus.CURRENT,
            koseki__honseki_address=person.get("honseki_address") or "",
            surname=person.get("surname") or "",
            given_name=person.get("given_name") or "",
            birth_date=birth_date,
            sex=person.get("sex") or "",
        )
        if same(entry.koseki.hittousha_name, person.get("hittousha_name"))
    ]
    return candidates[0] if len(candidates) == 1 else None


def differences(entry: FuhyoEntry, person: dict[str, Any]) -> list[dict[str, Any]]:
    """The identity items in which the notice and our 戸籍・附票 disagree, for the side-by-side view."""
    found = [difference(item, person.get(item), getattr(entry, item)) for item in IDENTITY_ITEMS]
    found += [
        difference("honseki_address", person.get("honseki_address"), entry.koseki.honseki_address),
        difference("hittousha_name", person.get("hittousha_name"), entry.koseki.hittousha_name),
    ]
    return [d for d in found if not same(d["notified"], d["koseki"])]


def handle(notice) -> Outcome:
    payload = notice.payload
    person, change, before = payload["person"], payload["change"], payload.get("before")
    entry = find_entry(person, before)
    if entry is None:
        if _honseki_left_ward(person, before):
            return Outcome.applied()  # the 本籍 left the ward: the 転籍 already closed the 附票 here
        code = person.get("juminhyo_code")
        if change["change_class"] == "removal" and code:
            if FuhyoEntry.objects.filter(juminhyo_code=code, status=EntryStatus.REMOVED).exists():
                return Outcome.applied()  # already 消除 from our 戸籍 (death recorded here first)
        return Outcome.waiting(NOT_FOUND)
    if _honseki_left_ward(person, before):
        return Outcome.waiting(
            "本籍が他の市区町村に移ったとの通知ですが、この区の戸籍にまだ在籍しています。確認してください。",
            fuhyo_entry=entry,
        )
    found = differences(entry, person)
    if found:
        return Outcome.waiting(MISMATCH, differences=found, fuhyo_entry=entry)
    return apply(entry, payload)


def review(notice) -> Outcome:
    """For a notice that is not applied automatically (transfers.authority): the 附票 row and the differences a
    clerk needs to judge it. Changes nothing."""
    person = notice.payload["person"]
    entry = find_entry(person, notice.payload.get("before"))
    if entry is None:
        return Outcome.waiting(NOT_FOUND)
    return Outcome.waiting("", differences=differences(entry, person), fuhyo_entry=entry)


def confirm(notice) -> Outcome:
    """The clerk checked the differences and lets the notice be applied to the person found."""
    if notice.fuhyo_entry_id is None:
        raise ServiceError(
            "戸籍に該当者のいない通知は確定できません。本籍照合通知を送るか、対応不要として完了してください。"
        )
    entry = FuhyoEntry.objects.select_for_update().select_related("koseki").get(pk=notice.fuhyo_entry_id)
    if entry.status != EntryStatus.CURRENT:
        raise ServiceError("この人はすでに戸籍から消除されています。")
    return refuse_unless_applied(apply(entry, notice.payload))


def _address(person: dict[str, Any]) -> AddressData | str:
    code = person.get("address_municipality")
    if not code:
        return "通知に住所の市区町村がありません。"
    municipality = Municipality.objects.filter(code=code).first()
    if municipality is None:
        return f"住所の地方公共団体コード {code} は登録されていません。"
    return AddressData(
        municipality=municipality, address=with_katagaki(person.get("address") or "", person.get("katagaki") or "")
    )


def apply(entry: FuhyoEntry, payload: dict[str, Any]) -> Outcome:
    """Bring the 附票 row in line with the notice: the 住民票コード, then the address (記載・修正), or 国外転出."""
    person, change = payload["person"], payload["change"]
    reason = change["reason"]
    label = reason_label(reason)
    if reason == ChangeReason.DEATH:
        return Outcome.waiting(
            "死亡による住民票消除の通知です。戸籍に死亡が記載されていません（死亡届の処理を確認してください）。",
            fuhyo_entry=entry,
        )
    if reason == ChangeReason.EX_OFFICIO_REMOVAL:
        return Outcome.waiting("職権消除の通知です。附票の住所の扱いを確認してください。", fuhyo_entry=entry)
    group = uuid.uuid4()
    changed = False
    code = person.get("juminhyo_code")
    if code and code != entry.juminhyo_code:
        amend_person(entry, {"juminhyo_code": code}, label, group)
        changed = True
    if reason == ChangeReason.MOVE_OUT:
        pass  # 国内転出: the 附票 keeps the address until the new 住所地's notice brings the next one
    elif reason == ChangeReason.MOVE_OUT_ABROAD:
        match = _ABROAD.match(change.get("new_address") or "")
        country = match["country"] if match else ""
        current = entry.current_address()
        if current is None or not current.is_abroad:
            established = parse_date(change["change_date"])
            record_address(
                entry, AddressData(None, is_abroad=True, country=country), established, today(), label, group
            )
            changed = True
    else:
        address = _address(person)
        if isinstance(address, str):
            return Outcome.waiting(address, fuhyo_entry=entry)
        established = parse_date(person.get("address_established_on")) or parse_date(change["change_date"])
        current = entry.current_address()
        if not (
            current is not None
            and not current.is_abroad
            and current.municipality_id == address.municipality.code
            and current.address == address.address
            and current.established_on == established
        ):
            record_address(entry, address, established, today(), label, group)
            changed = True
    return Outcome.applied(fuhyo_entry=entry, change_group=group if changed else None)
