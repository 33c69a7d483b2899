"""Authority of inbound notices (threat model invariant 6): whether the partner that sent a
notice is entitled to say this about this person, judged from what OUR records hold — never from what the notice
claims alone, except where the law leaves nothing else to go by (a person we do not know).

`check(notice)` runs on every received notice before its handler (transfers.inbound), one rule per kind in
`RULES`. A kind without a rule is refused (fail closed), and a test fails when a handler's kind has no rule. A
notice that fails its rule is stored as waiting for a clerk (要確認) with the Japanese reason, never applied
automatically, and logged (`authority_refused`); the sender gets the usual acknowledgement, which says nothing of
our records. The clerk can still confirm it through the inbox after checking with the sender.

The rules (docs/notices.md, 「送信元の権限」):
- 附票記載事項通知 (19条1項): from the person's 住所地 as our 附票 holds it, or from a 転入地 whose notice places
  the person there and gives a 従前の住所 equal to our 附票's current address (and, when that address is in this
  ward, is the 転出先 our 除票 names, if it names one). Never about a person whose 住民票 is current here (this
  ward is the 住所地: both registers change in one transaction). A notice older than the address our
  附票 holds (its 住所を定めた年月日 before ours) is not applied either (a late or replayed notice would move the
  address back). About a person with no current 附票 row here: nothing of ours can change
  (the handler only writes to a row found by 住民票コード), so the handler decides (it waits).
- 住民票記載事項通知 (9条2項): from the 本籍地 our 住民票 holds, or the new 本籍地 the notice names. A 受理地 is
  entitled too but cannot be told from any other partner, so its notice says so to the clerk (it waits anyway).
- 本籍照合通知 (19条2項): an answer to a 附票記載事項通知 this ward sent to that partner about that 住民票コード, or
  from the 本籍地 our 住民票 holds.
- 本籍転属通知 (19条3項): from the 従前の本籍 the notice names, when our records do not show another: a 住民票
  here with another 本籍, or a 附票 row here in a 戸籍 other than the one the notice names.
- 転入通知 (9条1項): about a person whose 除票 here names no other 転出先 (職権消除), or names the sender; never
  about a person whose 住民票 is current here.
- J-LIS sends none of these kinds (the J-LIS kind is never received).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from common.models import Municipality
from koseki_fuhyo.choices import EntryStatus
from koseki_fuhyo.models import FuhyoEntry
from registry.choices import ResidentStatus
from registry.models import Resident

from .handlers import fuhyo_items, honseki_transfer, juminhyo_items, move_in_notice
from .models import InboundNotice, OutboundNotice
from .payloads import subject_code
from .routing import JLIS, NoticeKind

_SPACES = re.compile(r"[\s\u3000]+")


@dataclass(frozen=True)
class Verdict:
    """A rule's answer: `allowed`, with a short code of the ground (for the log: never personal data) and, when
    refused, the reason in Japanese for the clerk (never sent to the partner). The reason names the rule that
    failed and the sender, never a value of our records (the inbox list shows it to every clerk). `resident` is
    the 住民票 the refusal rests on, kept on the notice so that the page showing it goes through the visibility
    rule of that person."""

    allowed: bool
    code: str
    reason: str = ""
    resident: Resident | None = None


def allowed(code: str) -> Verdict:
    return Verdict(True, code)


def refused(code: str, reason: str, resident: Resident | None = None) -> Verdict:
    return Verdict(False, code, reason, resident)


def _name(code: str | None) -> str:
    if not code:
        return "（なし）"
    municipality = Municipality.objects.filter(code=code).first()
    return f"{municipality.full_name}（{code}）" if municipality else code


def _plain(text: str | None) -> str:
    return _SPACES.sub("", text or "")


def _current_resident(*codes: str | None) -> Resident | None:
    wanted = [c for c in codes if c]
    if not wanted:
        return None
    return Resident.objects.filter(juminhyo_code__in=wanted, status=ResidentStatus.CURRENT).first()


CONFIRM_NEEDS_NOTE = (
    "送信元の権限が認められなかった通知です。確定するには、送信元に確かめた内容を処理メモに書いてください。"
)
RESIDENT_HERE = "この人の住民票はこの区に現存します（住所地はこの区）。他の市区町村からの通知では変更できません。"


# --- 附票記載事項通知 (19条1項) ---------------------------------------------------------------------------------------


def _fuhyo_address_text(address) -> str:
    """Our 附票's current address as a 従前の住所 would give it: 東京都新宿区… or 国外（国名）."""
    if address.is_abroad:
        return f"国外（{address.country}）"
    return f"{address.municipality.full_name}{address.address}"


def _fuhyo_items(notice: InboundNotice) -> Verdict:
    payload = notice.payload
    person, change, before = payload["person"], payload["change"], payload.get("before") or {}
    sender, ward = notice.sender, settings.WARD_LG_CODE
    resident = _current_resident(person.get("juminhyo_code"), before.get("juminhyo_code"))
    if resident is not None:
        return refused("resident_here", RESIDENT_HERE, resident)
    entry = fuhyo_items.find_entry(person, payload.get("before"))
    if entry is None:
        return allowed("unknown_person")  # the handler changes nothing: it waits, or notes a closed 附票
    notified_municipality = person.get("address_municipality")
    if notified_municipality and notified_municipality != sender:
        return refused(
            "address_elsewhere",
            f"通知された住所（{_name(notified_municipality)}）が送信元（{_name(sender)}）の区域にありません。",
        )
    current = entry.current_address()
    if current is None:
        return refused("no_residence", "附票に住所の記載がなく、送信元がこの人の住所地であることを確かめられません。")
    if not current.is_abroad and current.municipality_id == sender:
        ground = "residence"
    elif _plain(change.get("previous_address")) == _plain(_fuhyo_address_text(current)):
        ground = "move_in_destination"
        removed = move_in_notice.find_removed(person.get("juminhyo_code")) if current.municipality_id == ward else None
        if removed is not None and removed.moved_to_municipality_id not in (None, sender):
            return refused(
                "other_destination",
                f"この区の除票に記載された転出先と送信元（{_name(sender)}）が違います。",
                removed,
            )
    else:
        return refused(
            "not_residence",
            f"送信元（{_name(sender)}）は、附票に記載された住所地ではなく、通知の従前の住所も附票の住所と合いません。",
        )
    notified_since = person.get("address_established_on") or change.get("change_date")
    if notified_since and dt.date.fromisoformat(notified_since) < current.established_on:
        return refused(
            "stale",
            "通知の住所を定めた年月日が、附票に記載された現住所の年月日より前です（古い通知または再送）。",
        )
    return allowed(ground)


# --- 住民票記載事項通知 (9条2項) -------------------------------------------------------------------------------------


def _juminhyo_items(notice: InboundNotice) -> Verdict:
    person = notice.payload["person"]
    resident = juminhyo_items.find_resident(person)
    if resident is None:
        return allowed("unknown_person")  # a 記載 (出生 …) or nobody here: it waits, a clerk confirms
    if notice.sender == resident.honseki_municipality_id:
        return allowed("honsekichi")
    if notice.sender == person["changes"].get("honseki_municipality"):
        return allowed("new_honsekichi")
    return refused(
        "not_honsekichi",
        f"送信元（{_name(notice.sender)}）はこの人の住民票の本籍地ではありません。"
        "受理地からの通知であれば、届書を受理したことを送信元に確かめてから確定してください。",
        resident,
    )


# --- 本籍照合通知 (19条2項) ------------------------------------------------------------------------------------------


def _honseki_check(notice: InboundNotice) -> Verdict:
    payload = notice.payload
    answered = OutboundNotice.objects.filter(
        message_id=payload["in_reply_to"],
        kind=NoticeKind.FUHYO_ITEMS,
        receiver=notice.sender,
        juminhyo_code=payload["juminhyo_code"],
    )
    if answered.exists():
        return allowed("answer")
    resident = _current_resident(payload["juminhyo_code"])
    if resident is not None and resident.honseki_municipality_id == notice.sender:
        return allowed("honsekichi")
    return refused(
        "not_honsekichi",
        f"送信元（{_name(notice.sender)}）はこの人の本籍地ではなく、この区がそこへ送った附票記載事項通知への応答でも"
        "ありません。",
        resident,
    )


# --- 本籍転属通知 (19条3項) ------------------------------------------------------------------------------------------


def _honseki_transfer(notice: InboundNotice) -> Verdict:
    payload = notice.payload
    person, old, new = payload["person"], payload["old_honseki"], payload["new_honseki"]
    sender, ward = notice.sender, settings.WARD_LG_CODE
    if old["municipality"] != sender:
        return refused(
            "not_old_honsekichi",
            f"送信元（{_name(sender)}）は、通知に記載された従前の本籍地（{_name(old['municipality'])}）ではありません。",
        )
    resident = _current_resident(person.get("juminhyo_code"))
    if resident is not None and resident.honseki_municipality_id not in (sender, ward):
        return refused(
            "other_honsekichi",
            f"この区の住民票では、この人の本籍は送信元（{_name(sender)}）にありません。",
            resident,
        )
    code = person.get("juminhyo_code")
    entry = FuhyoEntry.objects.filter(juminhyo_code=code, status=EntryStatus.CURRENT).first() if code else None
    if entry is not None and new["municipality"] == ward and honseki_transfer.find_koseki(new) != entry.koseki:
        return refused(
            "honseki_here",
            "この人はこの区の別の戸籍に在籍しています（本籍地はこの区）。送信元が従前の本籍地とは認められません。",
        )
    return allowed("old_honsekichi")


# --- 転入通知 (9条1項) ----------------------------------------------------------------------------------------------


def _move_in(notice: InboundNotice) -> Verdict:
    code = subject_code(notice.payload)
    resident = _current_resident(code)
    if resident is not None:
        return refused("resident_here", RESIDENT_HERE, resident)
    removed = move_in_notice.find_removed(code)
    if removed is None:
        return allowed("unknown_person")  # nothing to complete: it waits
    if removed.moved_to_municipality_id == notice.sender:
        return allowed("destination")
    if removed.moved_to_municipality_id is None and not removed.moved_to_country:
        return allowed("no_destination")  # 職権消除: no 転出先 recorded
    return refused(
        "other_destination",
        f"除票に記載された転出先と送信元（{_name(notice.sender)}）が違います。",
        removed,
    )


Rule = Callable[[InboundNotice], Verdict]
RULES: dict[str, Rule] = {
    NoticeKind.FUHYO_ITEMS: _fuhyo_items,
    NoticeKind.JUMINHYO_ITEMS: _juminhyo_items,
    NoticeKind.HONSEKI_CHECK: _honseki_check,
    NoticeKind.HONSEKI_TRANSFER: _honseki_transfer,
    NoticeKind.MOVE_IN: _move_in,
}
JLIS_KINDS = frozenset({NoticeKind.JLIS_FUHYO})  # the only kind J-LIS may send about a person; never received


def check(notice: InboundNotice) -> Verdict:
    """Whether the sender of this freshly stored notice may say this about this person (inside the transaction
    that stored it: the rows looked at are the ones the handler will change)."""
    if notice.sender == JLIS and notice.kind not in JLIS_KINDS:
        return refused("jlis", "J-LIS はこの種類の通知の送信元にはなりません。")
    rule = RULES.get(notice.kind)
    if rule is None:
        return refused("no_rule", "この種類の通知には送信元の権限の規則がありません。")
    return rule(notice)
