"""住民票記載事項通知 (住基法9条2項) received: this ward is the 住所地, sent by the
受理地 or the 本籍地 of a 戸籍届出 that changes an item of our 住民票.

Never applied automatically: the notice waits as a proposed 職権 change, with the proposed items and the
differences against our 住民票 side by side. A clerk's confirmation applies it through registry.services
(apply_koseki_change for 氏名・本籍・筆頭者, death / ex_officio_removal for a 消除, birth / ex_officio_entry for a
記載 into the 世帯 the clerk names).
"""

from __future__ import annotations

from typing import Any

from common.errors import ServiceError
from common.items import IDENTITY_ITEMS, KOSEKI_ITEMS
from koseki_fuhyo.choices import FilingKind
from registry import services
from registry.choices import ResidentStatus
from registry.models import Resident
from registry.services.entries import PersonData

from .base import Outcome, difference, parse_date, same, today

ITEMS_TO_COMPARE = (*IDENTITY_ITEMS, "juminhyo_code")


def find_resident(person: dict[str, Any]) -> Resident | None:
    """The current 住民票 the notice is about: by 住民票コード, else by 氏名 and 生年月日 when exactly one matches."""
    code = person.get("juminhyo_code")
    current = Resident.objects.filter(status=ResidentStatus.CURRENT)
    if code:
        return current.filter(juminhyo_code=code).first()
    if not person.get("birth_date"):
        return None
    candidates = list(
        current.filter(surname=person["surname"], given_name=person["given_name"], birth_date=person["birth_date"])[:2]
    )
    return candidates[0] if len(candidates) == 1 else None


def _filing_label(kind: str) -> str:
    return FilingKind(kind).label if kind in FilingKind.values else kind


def differences(person: dict[str, Any], resident: Resident | None) -> list[dict[str, Any]]:
    """Proposed changes first (`change`: true; notified = the new value), then the identity items in which the
    notice and our 住民票 disagree (`change`: false). `juminhyo` is the value of our 住民票."""
    rows = []
    changes = person["changes"]
    for item, value in changes.items():
        if item in ("entered", "removed"):
            value = _filing_label(value)
        ours = getattr(resident, item if item != "honseki_municipality" else "honseki_municipality_id", None)
        if item in ("entered", "removed", "removed_on"):
            ours = None
        rows.append(difference(item, value, ours, "juminhyo", change=True))
    if resident is not None:
        for item in ITEMS_TO_COMPARE:
            notified = person.get(item)
            if notified is not None and not same(notified, getattr(resident, item)):
                rows.append(difference(item, notified, getattr(resident, item), "juminhyo", change=False))
    return rows


def handle(notice) -> Outcome:
    person = notice.payload["person"]
    filing = _filing_label(notice.payload["filing"]["kind"])
    resident = find_resident(person)
    rows = differences(person, resident)
    if resident is None and "entered" not in person["changes"]:
        problem = f"{filing}の住民票記載事項通知です。該当する住民票が見つかりません。確認してください。"
    elif resident is None:
        problem = f"{filing}による住民票の記載の提案です。世帯を確認して確定してください。"
    else:
        problem = f"{filing}による住民票の職権処理の提案です。内容を確認して確定してください。"
    return Outcome.waiting(problem, differences=rows, resident=resident)


def review(notice) -> Outcome:
    """For a notice whose sender failed the authority rule: the same proposal (`handle` never changes anything)."""
    return handle(notice)


def confirm(notice, *, household=None, relationship: str = "子") -> Outcome:
    """Apply the proposed change (the clerk checked it). A 記載 needs the 世帯 the clerk chose (`household`)."""
    payload = notice.payload
    person, filing = payload["person"], payload["filing"]
    changes = person["changes"]
    filed_on = parse_date(filing["filed_on"])
    note = f"{_filing_label(filing['kind'])}の住民票記載事項通知（{notice.sender}）"
    resident = Resident.objects.filter(pk=notice.resident_id).first() if notice.resident_id else find_resident(person)
    if "removed" in changes:
        if resident is None or resident.status != ResidentStatus.CURRENT:
            raise ServiceError("消除する住民票（現存）が見つかりません。")
        removed_on = parse_date(changes["removed_on"])
        if changes["removed"] == FilingKind.DEATH:
            result = services.death(resident, date_of_death=removed_on, notified_on=filed_on, note=note)
        else:
            result = services.ex_officio_removal([resident], change_date=removed_on, note=note)
        return Outcome.applied(resident=resident, change_group=result.change_group)
    items = {item: changes[item] for item in KOSEKI_ITEMS if item in changes}
    if "entered" in changes and resident is None:
        if household is None:
            raise ServiceError({"household": ["記載する世帯を指定してください。"]})
        data = PersonData(
            surname=person["surname"],
            given_name=person["given_name"],
            surname_kana=items.get("surname_kana") or person.get("surname_kana") or "",
            given_name_kana=items.get("given_name_kana") or person.get("given_name_kana") or "",
            birth_date=parse_date(person.get("birth_date")),
            sex=person.get("sex") or "",
            relationship=relationship,
            honseki_municipality=items.get("honseki_municipality"),
            honseki_address=items.get("honseki_address", ""),
            hittousha_name=items.get("hittousha_name", ""),
            juminhyo_code=person.get("juminhyo_code") or "",
        )
        if changes["entered"] == FilingKind.BIRTH:
            result = services.birth(data, household=household, notified_on=filed_on, note=note)
        else:
            result = services.ex_officio_entry([data], change_date=filed_on, household=household, note=note)
        return Outcome.applied(resident=result.residents[0], change_group=result.change_group)
    if resident is None:
        raise ServiceError("反映する住民票が見つかりません。")
    if not items:
        raise ServiceError("この通知には住民票に反映する項目がありません。")
    result = services.apply_koseki_change(resident, items, change_date=filed_on, notified_on=today(), note=note)
    return Outcome.applied(resident=resident, change_group=result.change_group if result else None)
