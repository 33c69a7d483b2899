"""Routing: from one change event to the statutory notices it causes — which kind, to whom, with which items.

One readable list of rules:

- 住民票 記載 by 国内転入 → 転入通知 (9条1項) to the previous 住所地.
- 住民票 記載・消除・修正 of a person whose 本籍 is elsewhere, when an item the 附票 carries changes (住所, 氏名,
  カナ, 生年月日, 性別, 住民票コード, 本籍・筆頭者) → 附票記載事項通知 (19条1項) to the 本籍地 (and to the old
  本籍地 when the 本籍 itself moved).
- 附票 記載・消除・記載の修正 → 附票本人確認情報 to J-LIS.
- 戸籍届出 concerning a person who lives in another municipality, with 住民票 items to write → 住民票記載事項通知
  (9条2項) to that 住所地.
- 戸籍届出 that moves a person's 本籍 out of the ward → 本籍転属通知 (19条3項) to the new 本籍地, with the
  person's 附票 items.

Same-ward cases need no rule: the services already updated the other register in the same transaction (the ward plays
every role), so an event whose receiver would be this ward routes to nothing. A `fuhyo.unmatched` event is a clerk's
task (the 照合 queue), not a transmission. The 本籍照合通知 (19条2項) is sent by a clerk from an inbound notice that
does not agree with the 戸籍, so it has no rule here either.

`route(event)` is a pure function of the event: it reads nothing else, so it can run inside the service's
transaction that wrote the event (the outbox of the next step) and be tested exhaustively. Each payload is shaped
by the builders of `transfers.payloads` to its versioned schema (docs/schemas, docs/notices.md).
"""

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import models

from common.items import FUHYO_ITEMS
from common.models import ChangeEvent

from . import payloads

JLIS = "J-LIS"  # the receiver of 附票本人確認情報 (the 附票都道府県サーバ/全国サーバ behind the CS)

MOVE_IN = "move_in"
MOVE_OUT = "move_out"
DEATH = "death"


class NoticeKind(models.TextChoices):
    MOVE_IN = "move_in_notice", "転入通知（住基法9条1項）"
    JUMINHYO_ITEMS = "juminhyo_items", "住民票記載事項通知（住基法9条2項）"
    FUHYO_ITEMS = "fuhyo_items", "戸籍の附票記載事項通知（住基法19条1項）"
    HONSEKI_CHECK = "honseki_check", "本籍照合通知（住基法19条2項）"
    HONSEKI_TRANSFER = "honseki_transfer", "本籍転属通知（住基法19条3項）"
    JLIS_FUHYO = "jlis_fuhyo", "附票本人確認情報（J-LIS）"


@dataclass(frozen=True)
class NoticePlan:
    """One notice to send: its kind, its receiver (地方公共団体コード, or J-LIS) and the items it carries."""

    kind: str
    receiver: str
    payload: dict[str, Any] = field(default_factory=dict)


def _is_elsewhere(code: str | None) -> bool:
    return bool(code) and code != settings.WARD_LG_CODE


def _fuhyo_items_changed(event: ChangeEvent) -> bool:
    if event.kind in (ChangeEvent.Kind.RESIDENT_ENTERED, ChangeEvent.Kind.RESIDENT_REMOVED):
        return True
    before = event.payload.get("before")
    after = event.payload.get("person", {})
    if before is None:  # 転居 and 世帯 changes carry no "before": the address may have changed
        change = event.payload.get("change", {})
        return change.get("previous_address") != change.get("new_address")
    return any(before.get(item) != after.get(item) for item in FUHYO_ITEMS)


def _resident_notices(event: ChangeEvent) -> list[NoticePlan]:
    person = event.payload.get("person", {})
    plans: list[NoticePlan] = []
    if event.kind == ChangeEvent.Kind.RESIDENT_ENTERED and event.reason == MOVE_IN:
        previous = event.resident.previous_municipality_id if event.resident_id else None
        if _is_elsewhere(previous):
            plans.append(NoticePlan(NoticeKind.MOVE_IN, previous, payloads.move_in_payload(event.payload)))
    honseki = person.get("honseki_municipality")
    # The 本籍地 the 住民票 names now; an old 本籍地 closed its 附票 itself when the 本籍 moved (本籍転属, 19条3項).
    if _is_elsewhere(honseki) and _fuhyo_items_changed(event) and not _left_to_others(event):
        plans.append(NoticePlan(NoticeKind.FUHYO_ITEMS, honseki, payloads.fuhyo_items_payload(event.payload)))
    return plans


def _left_to_others(event: ChangeEvent) -> bool:
    """Removals that the 本籍地 learns of otherwise, so no 19条1項 notice: a domestic 転出 (the new 住所地 sends the
    転入's notice) and a death (the 死亡届 reaches the 本籍地, which closes the 附票). A 国外転出 is told: it is a 附票
    item (国外転出者である旨)."""
    return event.kind == ChangeEvent.Kind.RESIDENT_REMOVED and event.reason in (MOVE_OUT, DEATH)


def _fuhyo_notices(event: ChangeEvent) -> list[NoticePlan]:
    return [NoticePlan(NoticeKind.JLIS_FUHYO, JLIS, payloads.jlis_fuhyo_payload(event.payload))]


def _filing_notices(event: ChangeEvent) -> list[NoticePlan]:
    plans: list[NoticePlan] = []
    for person in event.payload.get("persons", []):
        changes = person.get("juminhyo_changes") or {}
        address = person.get("address_municipality")
        if changes and not person.get("resident_in_ward") and _is_elsewhere(address):
            plans.append(
                NoticePlan(NoticeKind.JUMINHYO_ITEMS, address, payloads.juminhyo_items_payload(event.payload, person))
            )
        new_honseki = changes.get("honseki_municipality")
        if person.get("fuhyo_left_ward") and _is_elsewhere(new_honseki):
            plans.append(
                NoticePlan(
                    NoticeKind.HONSEKI_TRANSFER, new_honseki, payloads.honseki_transfer_payload(event.payload, person)
                )
            )
    return plans


RULES = {
    ChangeEvent.Kind.RESIDENT_ENTERED: _resident_notices,
    ChangeEvent.Kind.RESIDENT_REMOVED: _resident_notices,
    ChangeEvent.Kind.RESIDENT_AMENDED: _resident_notices,
    ChangeEvent.Kind.FUHYO_ENTERED: _fuhyo_notices,
    ChangeEvent.Kind.FUHYO_REMOVED: _fuhyo_notices,
    ChangeEvent.Kind.FUHYO_AMENDED: _fuhyo_notices,
    ChangeEvent.Kind.KOSEKI_FILED: _filing_notices,
}


def route(event: ChangeEvent) -> list[NoticePlan]:
    """The notices `event` causes (none for same-ward cases, clerk tasks, and 戸籍 opening/closing)."""
    rule = RULES.get(event.kind)
    return rule(event) if rule else []
