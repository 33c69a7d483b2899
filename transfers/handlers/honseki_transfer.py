"""本籍転属通知 (住基法19条3項) received: this ward is the new 本籍地 (a 転籍, or a
婚姻・分籍・養子縁組 etc. that makes a 戸籍 here). The person's 附票 row is
opened in the new 戸籍 of this ward (found by 本籍 and 筆頭者, opened through koseki_fuhyo.services.koseki when it
does not exist yet) with the address carried by the notice; koseki_fuhyo.services.fuhyo raises the J-LIS update.
Anything that does not fit waits for a clerk with the reason."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.conf import settings

from common.models import Municipality
from koseki_fuhyo.choices import FilingKind, KosekiStatus
from koseki_fuhyo.models import Koseki
from koseki_fuhyo.services.fuhyo import AddressData, current_entry_for_code, enter_person
from koseki_fuhyo.services.koseki import open_koseki
from registry.addresses import with_katagaki

from ..payloads import subject_code
from .base import Outcome, parse_date, refuse_unless_applied, same, today

_SPACES = re.compile(r"[\s\u3000]+")


def find_koseki(honseki: dict[str, Any]) -> Koseki | None:
    """The current 戸籍 of this ward with the notified 本籍 (地番) and 筆頭者, if it exists already."""
    candidates = Koseki.objects.select_for_update().filter(
        status=KosekiStatus.CURRENT, honseki_address=honseki["address"].strip()
    )
    return next((k for k in candidates if same(k.hittousha_name, honseki["hittousha_name"])), None)


def _address(payload: dict[str, Any]) -> AddressData | None | str:
    person, abroad = payload["person"], payload.get("abroad")
    if abroad is not None:
        return AddressData(municipality=None, is_abroad=True, country=abroad.get("country") or "")
    code = person.get("address_municipality")
    if not code:
        return None
    municipality = Municipality.objects.filter(code=code).first()
    if municipality is None:
        return f"住所の地方公共団体コード {code} は登録されていません。"
    return AddressData(municipality, with_katagaki(person.get("address") or "", person.get("katagaki") or ""))


def handle(notice) -> Outcome:
    payload = notice.payload
    person, new, filing = payload["person"], payload["new_honseki"], payload["filing"]
    if new["municipality"] != settings.WARD_LG_CODE:
        return Outcome.waiting("新しい本籍がこの区ではありません。")
    koseki = find_koseki(new)
    existing = current_entry_for_code(person.get("juminhyo_code") or "", lock=True)
    if existing is not None:
        if koseki is not None and existing.koseki_id == koseki.pk:
            return Outcome.applied(fuhyo_entry=existing)  # already entered (e.g. the 届出 was filed here)
        return Outcome.waiting("この住民票コードの人は、すでにこの区の別の戸籍に在籍しています。", fuhyo_entry=existing)
    address = _address(payload)
    if isinstance(address, str):
        return Outcome.waiting(address)
    reason = FilingKind(filing["kind"]).label if filing["kind"] in FilingKind.values else filing["kind"]
    group = uuid.uuid4()
    if koseki is None:
        parts = _SPACES.split(new["hittousha_name"].strip())
        if len(parts) != 2:
            return Outcome.waiting("筆頭者の氏名を氏と名に分けられません。戸籍を確認してください。")
        koseki = open_koseki(new["address"], parts[0], parts[1], parse_date(filing["accepted_on"]), reason, group)
    entry, _ = enter_person(
        koseki,
        surname=person["surname"],
        given_name=person["given_name"],
        surname_kana=person["surname_kana"],
        given_name_kana=person["given_name_kana"],
        birth_date=parse_date(person["birth_date"]),
        sex=person["sex"],
        juminhyo_code=person.get("juminhyo_code") or "",
        address=address,
        address_established_on=parse_date(person.get("address_established_on")),
        entered_on=today(),
        reason=reason,
        group=group,
    )
    return Outcome.applied(fuhyo_entry=entry, change_group=group)


def review(notice) -> Outcome:
    """For a notice whose sender failed the authority rule: the 附票 row this ward already holds for the person, if
    any. Changes nothing (no 戸籍 is opened)."""
    existing = current_entry_for_code(subject_code(notice.payload))
    return Outcome.waiting("", fuhyo_entry=existing)


def confirm(notice) -> Outcome:
    """After the clerk fixed what stood in the way: try again, and refuse while it still does not fit."""
    return refuse_unless_applied(handle(notice))
