"""The notice conformance matrix (docs/notice-matrix.json, rendered in docs/notices.md 「通知の適合表」): for each
row, the world is set up with factories, the REAL service the row names runs, and the statutory notices written to
the outbox (kind, receiver and, where the row names them, the items) must be exactly those of the row — a notice
added or missing fails, and so does a row that expects nothing when something is sent. Receiving rows deliver a
real sealed envelope through `transfers.inbound.receive` and compare the notice's state and what changed.

A row marked `xfail` is a case where the service does not do what the law or a product decision says: it is kept
visible (strict xfail) until the service is fixed.

Writing a row: `MATRIX_SHOW=1 pytest transfers/tests/test_notice_matrix.py -s -k R01` prints what the row sent
(kind, receiver, items) — to compare with what the law and the product decisions say, never to copy blindly."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from audit.models import AuditLogEntry
from common.juminhyo_codes import juminhyo_code_for
from common.models import ChangeEvent
from koseki_fuhyo.choices import FilingKind, WardRole
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry
from koseki_fuhyo.services import filings
from koseki_fuhyo.services.filings import FiledPerson, FilingHeader, KosekiPlace, Newborn, NewNational
from koseki_fuhyo.tests.factories import FuhyoEntryFactory, KosekiFactory, link_to_koseki
from registry import services
from registry.models import Resident
from registry.services.entries import NewHousehold
from registry.tests.factories import ResidentFactory, person_data
from transfers import delivery
from transfers.envelope import Identity
from transfers.inbound import receive
from transfers.models import InboundNotice, OutboundNotice
from transfers.routing import FUHYO_ITEMS

from .inbound_support import fuhyo_items as inbound_fuhyo_items
from .inbound_support import koseki_person, register, sealed, ward_fixture  # noqa: F401 - the `ward` fixture
from .inbound_support import person as inbound_person

pytestmark = pytest.mark.django_db

MATRIX = Path(settings.BASE_DIR) / "docs" / "notice-matrix.json"
D = dt.date(2026, 11, 20)  # the 異動日 / 届出日 of every row (the pinned clock is 2026-11-25)
WARD = "131041"
SHIBUYA, NAKANO, OSAKA, YOKOHAMA_NAKA = "131130", "131148", "271004", "141046"


def load_matrix() -> dict[str, Any]:
    return json.loads(MATRIX.read_text(encoding="utf-8"))


# --- What a notice carries: the "items" column -------------------------------------------------------------------


def items_of(notice: OutboundNotice) -> list[str]:
    """The items a row can name, per kind: what changes (19条1項: the 附票 items that differ, or the 異動事由 of an
    entry/removal/move), what the 住所地 must write (9条2項), the record kind (J-LIS), where the person lives
    (19条3項), the 異動事由 (転入通知)."""
    p = notice.payload
    if notice.kind == "fuhyo_items":
        before, after = p.get("before"), p["person"]
        if before:
            return sorted(k for k in FUHYO_ITEMS if k in after and before.get(k) != after.get(k))
        return [p["change"]["reason"]]
    if notice.kind == "juminhyo_items":
        person = p["person"]
        return sorted(set(person["changes"]) | ({"removed"} if person["removed"] else set()))
    if notice.kind == "jlis_fuhyo":
        return [p["record_kind"]]
    if notice.kind == "honseki_transfer":
        return [f"address_municipality={p['person'].get('address_municipality') or 'abroad'}"]
    if notice.kind == "move_in_notice":
        return [p["change"]["reason"]]
    return []


# --- The world a row names ----------------------------------------------------------------------------------------


class World:
    """What one row's action set up and did: the outbox mark taken just before the service ran, and what the
    action reports it observed (receiving rows: the inbound notice's state and what changed)."""

    def __init__(self) -> None:
        self.mark = 0
        self.event_mark = 0
        self.observed: dict[str, Any] = {}
        self.result: Any = None

    def begin(self) -> None:
        self.mark = OutboundNotice.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.event_mark = ChangeEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def events(self, kind: str) -> int:
        """How many events of `kind` the action wrote."""
        return ChangeEvent.objects.filter(pk__gt=self.event_mark, kind=kind).count()

    def sent(self) -> list[OutboundNotice]:
        return list(OutboundNotice.objects.filter(pk__gt=self.mark).order_by("pk"))


def resident_here(honseki: str, **fields: Any) -> tuple[Resident, FuhyoEntry | None]:
    """A resident of the ward, 本籍 in this ward (with a matching 附票 row) or elsewhere (渋谷区)."""
    resident = ResidentFactory(**fields)
    if honseki == "ward":
        return resident, link_to_koseki(resident)
    return resident, None


def member_living(where: str, *, code: int | None = 777, koseki=None, **fields: Any) -> FuhyoEntry:
    """A member of a 戸籍 of this ward whose 住民票 is elsewhere ('abroad': the 附票 shows 国外転出)."""
    entry = FuhyoEntryFactory(
        juminhyo_code=juminhyo_code_for(code) if code else "", **({"koseki": koseki} if koseki else {}), **fields
    )
    FuhyoAddress.objects.create(
        entry=entry,
        municipality_id=None if where == "abroad" else where,
        is_abroad=where == "abroad",
        country="アメリカ合衆国" if where == "abroad" else "",
        address="" if where == "abroad" else "神南一丁目1番",
        established_on=dt.date(2015, 4, 1),
        recorded_on=dt.date(2015, 4, 3),
        reason="国外転出" if where == "abroad" else "転入",
    )
    return entry


def subject(lives: str, honseki: str) -> tuple[Resident | None, FuhyoEntry | None, FiledPerson]:
    """The person of a row and how the clerk names them on the 届書: picked from our registers, or typed (a person
    in neither: lives and has the 本籍 elsewhere, the ward is only the 受理地)."""
    if lives == "ward":
        resident, entry = resident_here(honseki)
        return resident, entry, FiledPerson(entry=entry) if entry else FiledPerson(resident=resident)
    if honseki == "ward":
        entry = member_living(SHIBUYA if lives == "elsewhere" else "abroad")
        return None, entry, FiledPerson(entry=entry)
    typed = FiledPerson(
        surname="鈴木",
        given_name="一郎",
        surname_kana="スズキ",
        given_name_kana="イチロウ",
        birth_date=dt.date(1970, 3, 3),
        sex="1",
        juminhyo_code=juminhyo_code_for(4242),
        address_municipality=SHIBUYA,
        address="神南二丁目2番",
    )
    return None, None, typed


def header(p: dict[str, Any]) -> FilingHeader:
    return FilingHeader(filed_on=D, ward_role=p.get("ward_role", WardRole.HONSEKICHI))


# --- Actions: the REAL service a row names --------------------------------------------------------------------------


def act_move_in(w: World, p: dict[str, Any]) -> None:
    """転入 (住基法22条) from another municipality or from abroad."""
    from_abroad = p["from"] == "abroad"
    if p["honseki"] == "ward":
        entry = member_living(
            "abroad" if from_abroad else p["from"], given_name="健太", birth_date=dt.date(1990, 1, 15)
        )
        who = person_data(
            surname=entry.surname,
            given_name=entry.given_name,
            surname_kana=entry.surname_kana,
            given_name_kana=entry.given_name_kana,
            birth_date=entry.birth_date,
            juminhyo_code=entry.juminhyo_code,
            honseki_municipality=WARD,
            honseki_address=entry.koseki.honseki_address,
            hittousha_name=entry.koseki.hittousha_name,
        )
    else:
        who = person_data()
    w.begin()
    services.move_in(
        [who],
        change_date=D,
        notified_on=D,
        previous_municipality=None if from_abroad else p["from"],
        previous_address="" if from_abroad else "山下町1番地",
        from_abroad=from_abroad,
        new_household=NewHousehold("四谷二丁目2番"),
    )


def act_move_within(w: World, p: dict[str, Any]) -> None:
    """転居 (23条)."""
    resident, _ = resident_here(p["honseki"])
    w.begin()
    services.move_within([resident], change_date=D, notified_on=D, new_address=NewHousehold("高田馬場一丁目1番"))


def act_move_out(w: World, p: dict[str, Any]) -> None:
    """転出 (24条): to another municipality or abroad."""
    resident, _ = resident_here(p["honseki"])
    w.begin()
    if p["to"] == "abroad":
        services.move_out([resident], planned_date=D, notified_on=D, destination_country="アメリカ合衆国")
    else:
        services.move_out(
            [resident], planned_date=D, notified_on=D, destination_municipality=p["to"], destination_address="中区1番"
        )


def act_death_report(w: World, p: dict[str, Any]) -> None:
    """The 住民票 side of a death (消除 by the 死亡届 accepted here)."""
    resident, _ = resident_here(p["honseki"])
    w.begin()
    services.death(resident, date_of_death=D, notified_on=D)


def act_household_head(w: World, p: dict[str, Any]) -> None:
    """世帯主変更 (25条)."""
    head, _ = resident_here(p["honseki"])
    wife = ResidentFactory(household=head.household, relationship="妻", given_name="花子", sex="2")
    w.begin()
    services.change_household_head(head.household, wife, {head.pk: "夫"}, change_date=D, notified_on=D)


def act_amend(w: World, p: dict[str, Any]) -> None:
    """職権修正 of one 住民票 item."""
    resident, entry = resident_here(p["honseki"])
    value = {
        "given_name_kana": "タロー",
        "address_established_on": dt.date(2010, 3, 29),
        "became_resident_on": dt.date(2010, 4, 2),
        "juminhyo_code": juminhyo_code_for(424242),
        "birth_date": dt.date(1980, 5, 2),
        "sex": "2",
    }[p["item"]]
    w.begin()
    services.ex_officio_amendment(resident, {p["item"]: value}, change_date=D, note="誤記修正")
    if entry is not None:
        entry.refresh_from_db()
        w.observed["fuhyo_item_follows"] = getattr(entry, p["item"], value) == value


def act_file_death(w: World, p: dict[str, Any]) -> None:
    """死亡届 (戸籍法86条) accepted here; the same path for 失踪宣告 (94条) and 国籍喪失 (103条) (`kind`)."""
    _, _, filed = subject(p["lives"], p["honseki"])
    w.begin()
    filings.file_death(header(p), filed, date_of_death=D, kind=p.get("kind", FilingKind.DEATH))


def act_file_birth(w: World, p: dict[str, Any]) -> None:
    """出生届 (49条): the child enters a 戸籍 of the ward, or one elsewhere (the ward is 受理地)."""
    if p["honseki"] == "ward":
        place = KosekiPlace(koseki=KosekiFactory())
    else:
        place = KosekiPlace(
            honseki_municipality=OSAKA, honseki_address="北区1番", hittousha_surname="山田", hittousha_given_name="一郎"
        )
    child = Newborn("山田", "蓮", "ヤマダ", "レン", D, "1")
    household = ResidentFactory().household if p["lives"] == "ward" else None
    w.begin()
    if p["lives"] == "ward":
        filings.file_birth(header(p), child, place, household=household)
    else:
        filings.file_birth(header(p), child, place, address_municipality=SHIBUYA, address="神南一丁目1番")


def act_file_surname_change(w: World, p: dict[str, Any]) -> None:
    """氏の変更届 (107条1項) of a 戸籍 of the ward; its member lives here or elsewhere."""
    _, entry, _ = subject(p["lives"], "ward")
    w.begin()
    filings.file_surname_change(header(p), entry.koseki, "山口", "ヤマグチ")


def act_file_honseki_transfer(w: World, p: dict[str, Any]) -> None:
    """転籍届 (108条) of a 戸籍 of the ward: to another municipality, or within the ward (管内転籍: the same 戸籍)."""
    _, entry, _ = subject(p["lives"], "ward")
    if p["to"] == "ward":
        place = KosekiPlace(honseki_municipality=WARD, honseki_address="戸山三丁目3番")
    else:
        place = KosekiPlace(honseki_municipality=p["to"], honseki_address="北区1番")
    w.begin()
    w.result = filings.file_honseki_transfer(header(p), entry.koseki, place)
    w.observed["koseki_closed_events"] = w.events(ChangeEvent.Kind.KOSEKI_CLOSED)


def act_file_record_only(w: World, p: dict[str, Any]) -> None:
    """A 届出 recorded in the 戸籍 without a 住民票 item (認知)."""
    resident, _, filed = subject("ward", p["honseki"])
    w.begin()
    filings.file_record_only(FilingKind.RECOGNITION, header(p), [filed])


def act_file_given_name_change(w: World, p: dict[str, Any]) -> None:
    """名の変更届 (107条の2)."""
    _, _, filed = subject(p["lives"], "ward")
    w.begin()
    filings.file_given_name_change(header(p), filed, "太一", "タイチ")


def act_file_furigana(w: World, p: dict[str, Any]) -> None:
    """氏名の振り仮名の届 (2025-05-26 施行; 決定14)."""
    _, _, filed = subject(p["lives"], "ward")
    w.begin()
    filings.file_furigana(header(p), filed, "ヤマダ", "タロー")


def act_file_branch(w: World, p: dict[str, Any]) -> None:
    """分籍届 (100条): a new 戸籍 in the ward or in another municipality."""
    _, _, filed = subject(p["lives"], "ward")
    place = KosekiPlace(honseki_municipality=p["to"], honseki_address="戸山五丁目5番" if p["to"] == WARD else "北区5番")
    w.begin()
    filings.file_relocation(FilingKind.BRANCH, header(p), [filed], place)


def act_file_marriage(w: World, p: dict[str, Any]) -> None:
    """婚姻届 (74条), 夫の氏: the husband (a resident here in a 戸籍 of the ward) and the wife, who lives elsewhere —
    in a 戸籍 of the ward (`wife`: "koseki") or from outside the ward (typed: "outside"); new 戸籍 in `to`."""
    _, _, husband = subject("ward", "ward")
    if p["wife"] == "koseki":
        wife_entry = member_living(SHIBUYA, surname="田中", given_name="花子", surname_kana="タナカ", sex="2")
        wife_entry.koseki.hittousha_surname = "田中"
        wife_entry.koseki.save()
        wife = FiledPerson(entry=wife_entry)
    else:
        wife = FiledPerson(
            surname="田中",
            given_name="花子",
            surname_kana="タナカ",
            given_name_kana="ハナコ",
            birth_date=dt.date(1985, 7, 7),
            sex="2",
            address_municipality=SHIBUYA,
            address="神南三丁目3番",
        )
    place = KosekiPlace(honseki_municipality=p["to"], honseki_address="戸山七丁目7番" if p["to"] == WARD else "北区7番")
    w.begin()
    filings.file_marriage(header(p), husband, wife, surname_from="husband", place=place)


# --- Receiving rows: a real sealed envelope from a partner through transfers.inbound.receive ----------------------

CODE = juminhyo_code_for(1)


def receive_from(w: World, sender_code: str, kind: str, payload: dict[str, Any]) -> InboundNotice:
    """Seal `payload` as the registered partner `sender_code` and hand it to `transfers.inbound.receive`."""
    ward = w.observed.pop("ward")
    sender = Identity.generate(sender_code)
    register(sender)
    w.begin()
    reply = receive(sealed(sender, ward, kind, payload), via="http")
    assert reply.status == 200, reply.body
    notice = InboundNotice.objects.order_by("-pk").first()
    w.observed |= {"state": notice.state, "authority_refused": bool(notice.authority_refusal)}
    return notice


def recv_fuhyo_items(w: World, p: dict[str, Any]) -> None:
    """附票記載事項通知 (19条1項) received as 本籍地. `case`: a 転入 reported by the 転入地 whose 従前の住所 is our
    附票's address ("move_in"); the same by a municipality our 附票 does not name ("forged"); a row without a
    住民票コード ("no_code"), twice alike ("twins"); names that disagree ("mismatch"); nobody in our 戸籍 ("nobody");
    a 国外転出 reported by the 住所地 ("abroad")."""
    case = p["case"]
    if case in ("no_code", "twins"):
        entry = koseki_person("")
        if case == "twins":
            FuhyoEntryFactory(koseki=entry.koseki, juminhyo_code="")
    elif case != "nobody":
        entry = koseki_person(CODE)
    who = inbound_person(juminhyo_code=CODE)
    payload = inbound_fuhyo_items(who)
    if case == "mismatch":
        payload = inbound_fuhyo_items(inbound_person(juminhyo_code=CODE, given_name="太朗"))
    if case == "forged":
        FuhyoAddress.objects.filter(entry=entry).update(is_current=False)
        FuhyoAddress.objects.create(
            entry=entry,
            municipality_id=SHIBUYA,
            address="神南一丁目2番3号",
            established_on=dt.date(2026, 11, 10),
            recorded_on=dt.date(2026, 11, 12),
            reason="転入",
        )
        payload = inbound_fuhyo_items(
            inbound_person(juminhyo_code=CODE, address_municipality=NAKANO, address="中央一丁目1番1号"),
            change_date="2026-11-20",
        )
    if case == "abroad":
        FuhyoAddress.objects.filter(entry=entry).update(municipality_id=SHIBUYA, address="神南一丁目2番3号")
        payload = inbound_fuhyo_items(who, reason="move_out_abroad", change_class="removal")
        payload["change"]["new_address"] = "国外（アメリカ合衆国）"
    if case == "repeat":  # the same 転入 told twice: the second changes nothing
        first = Identity.generate(SHIBUYA)
        register(first)
        receive(sealed(first, w.observed["ward"], "fuhyo_items", payload), via="http")
        from transfers.models import Partner

        Partner.objects.filter(code=SHIBUYA).delete()
    notice = receive_from(w, p["sender"], "fuhyo_items", payload)
    if case != "nobody":
        entry.refresh_from_db()
        line = entry.current_address()
        w.observed["fuhyo_address"] = "abroad" if line.is_abroad else line.municipality_id
        w.observed["fuhyo_code"] = "notified" if entry.juminhyo_code == CODE else entry.juminhyo_code
    w.observed["waiting_with_differences"] = bool(notice.differences)


def recv_juminhyo_items(w: World, p: dict[str, Any]) -> None:
    """住民票記載事項通知 (9条2項) received as 住所地: never applied before a clerk confirms (決定2)."""
    resident = ResidentFactory(juminhyo_code=CODE)  # 本籍 in 渋谷区
    payload = {
        "filing": {"kind": "marriage", "filed_on": "2026-11-20", "accepted_on": "2026-11-20"},
        "person": {
            "role": "subject",
            "juminhyo_code": CODE,
            "surname": resident.surname,
            "given_name": resident.given_name,
            "surname_kana": resident.surname_kana,
            "given_name_kana": resident.given_name_kana,
            "birth_date": resident.birth_date.isoformat(),
            "sex": resident.sex,
            "address": resident.address,
            "changes": {"surname": "佐藤", "surname_kana": "サトウ"},
            "removed": False,
        },
    }
    receive_from(w, p["sender"], "juminhyo_items", payload)
    resident.refresh_from_db()
    w.observed["juminhyo_surname"] = resident.surname


def recv_move_in_notice(w: World, p: dict[str, Any]) -> None:
    """転入通知 (9条1項) received as the 転出地: completes the 除票 of the person who moved to the sender
    (決定7・15)."""
    resident = ResidentFactory(juminhyo_code=CODE)
    services.move_out(
        [resident],
        planned_date=dt.date(2026, 11, 14),
        notified_on=dt.date(2026, 11, 10),
        destination_municipality=SHIBUYA,
        destination_address="神南一丁目2番3号",
    )
    payload = {
        "person": inbound_person(
            juminhyo_code=CODE,
            honseki_municipality=SHIBUYA,
            honseki_address="神南一丁目1番",
            hittousha_name="山田　一夫",
            address_municipality=p["sender"],
        ),
        "change": {
            "reason": "move_in",
            "change_date": "2026-11-15",
            "notified_on": "2026-11-16",
            "previous_address": "東京都新宿区西新宿二丁目1番1号",
            "new_address": "東京都渋谷区神南一丁目2番3号",
        },
    }
    receive_from(w, p["sender"], "move_in_notice", payload)
    resident.refresh_from_db()
    w.observed["move_out_confirmed_on"] = resident.move_out_confirmed_on and resident.move_out_confirmed_on.isoformat()


def recv_honseki_transfer(w: World, p: dict[str, Any]) -> None:
    """本籍転属通知 (19条3項) received as the new 本籍地: opens the 戸籍 and its 附票 here (決定5・15)."""
    new = {"municipality": WARD, "address": "新宿六丁目1番", "hittousha_name": "山田　太郎"}
    payload = {
        "filing": {"kind": "honseki_transfer", "filed_on": "2026-11-20", "accepted_on": "2026-11-20"},
        "person": inbound_person(
            juminhyo_code=CODE, honseki_municipality=WARD, honseki_address="新宿六丁目1番", hittousha_name="山田　太郎"
        ),
        "abroad": None,
        "old_honseki": {"municipality": SHIBUYA, "address": "神南一丁目1番", "hittousha_name": "山田　太郎"},
        "new_honseki": new,
    }
    receive_from(w, p["sender"], "honseki_transfer", payload)
    w.observed["fuhyo_opened"] = FuhyoEntry.objects.filter(juminhyo_code=CODE).exists()


def recv_honseki_check(w: World, p: dict[str, Any]) -> None:
    """本籍照合通知 (19条2項) received as 住所地: a correction task for a clerk (決定4), nothing changes by itself."""
    ResidentFactory(juminhyo_code=CODE)  # 本籍 in 渋谷区
    payload = {
        "in_reply_to": str(uuid.uuid4()),
        "juminhyo_code": CODE,
        "found": True,
        "differences": [{"item": "given_name", "notified": "太郎", "koseki": "太朗"}],
        "koseki_values": {
            "surname": "山田",
            "given_name": "太朗",
            "surname_kana": "ヤマダ",
            "given_name_kana": "タロウ",
            "birth_date": "1980-05-01",
            "sex": "1",
            "honseki_address": "神南一丁目1番",
            "hittousha_name": "山田　一夫",
        },
    }
    receive_from(w, p["sender"], "honseki_check", payload)


def deliver_unconnected(w: World, p: dict[str, Any]) -> None:
    """A 転入 whose notices go to municipalities that are not connected partners: one delivery look each sets them
    aside as 送信先未接続 (決定9; no endless retries in the clerk's name)."""
    act_move_in(w, p)
    for notice in w.sent():
        delivery.deliver(notice.pk)
    notices = w.sent()
    w.observed["states"] = {n.receiver: n.state for n in notices}
    w.observed["attempts"] = sorted({n.attempts for n in notices})
    entries = AuditLogEntry.objects.filter(category="transmission", action="unconnected")
    w.observed["unconnected_entries"] = {"system": entries.filter(user__isnull=True).count(), "clerk": 0}
    w.observed["unconnected_entries"]["clerk"] = entries.filter(user__isnull=False).count()


def act_removal_or_entry(w: World, p: dict[str, Any]) -> None:
    """職権消除 (住基法施行令8条・12条) or 職権記載, and the 出生 of a child born into a 世帯 of the ward
    (住民票 記載 without a 届出 of this ward's 戸籍)."""
    resident, _ = resident_here(p["honseki"])
    w.begin()
    if p["kind"] == "removal":
        services.ex_officio_removal([resident], change_date=D, note="実態調査により居住の事実なし")
    elif p["kind"] == "entry":
        household = NewHousehold("四谷三丁目3番")
        services.ex_officio_entry([person_data()], change_date=D, new_household=household, note="記載漏れ")
    else:
        child = person_data(given_name="蓮", given_name_kana="レン", birth_date=D, relationship="子")
        services.birth(child, household=resident.household, notified_on=D)


def act_split_household(w: World, p: dict[str, Any]) -> None:
    """世帯分離 (25条)."""
    head, _ = resident_here(p["honseki"])
    son = ResidentFactory(household=head.household, relationship="子", given_name="一郎")
    w.begin()
    services.split_household(head.household, [son], son, {}, change_date=D, notified_on=D)


def act_koseki_change(w: World, p: dict[str, Any]) -> None:
    """The 住民票 follows a 戸籍届出 confirmed from a 9条2項 notice: here a 転籍 into this ward from 渋谷区 (the old
    本籍地 closed its 附票 itself when the 本籍 moved)."""
    resident, _ = resident_here("elsewhere")
    w.begin()
    services.apply_koseki_change(
        resident,
        {"honseki_municipality": WARD, "honseki_address": "戸山一丁目1番"},
        change_date=D,
        notified_on=D,
        note="転籍",
    )


def act_file_new_national(w: World, p: dict[str, Any]) -> None:
    """帰化届 (102条の2): a new 戸籍 in the ward; the person lives here (住民票 記載) or elsewhere (9条2項)."""
    who = NewNational("李", "明", "リ", "メイ", dt.date(1988, 8, 8), "1")
    place = KosekiPlace(
        honseki_municipality=WARD, honseki_address="戸山八丁目8番", hittousha_surname="李", hittousha_given_name="明"
    )
    w.begin()
    if p["lives"] == "ward":
        filings.file_new_national(
            FilingKind.NATURALIZATION, header(p), who, place, new_household=NewHousehold("四谷四丁目4番")
        )
    else:
        filings.file_new_national(
            FilingKind.NATURALIZATION, header(p), who, place, address_municipality=SHIBUYA, address="神南四丁目4番"
        )


def purge_with_short_retention(w: World, p: dict[str, Any]) -> None:
    """Retention below the statutory 150 years (決定11): the purge is refused and the 除票 stays."""
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import call_command
    from django.test import override_settings

    kept = ResidentFactory(status="removed", removed_on=dt.date(2020, 1, 1), removal_reason="death")
    w.begin()
    with override_settings(RETENTION_REMOVED_RECORD_YEARS=0):
        try:
            call_command("purge_expired", stdout=io.StringIO())
        except ImproperlyConfigured:
            w.observed["refused"] = True
    w.observed["removed_record_kept"] = Resident.objects.filter(pk=kept.pk).exists()


def act_move_in_unmatched(w: World, p: dict[str, Any]) -> None:
    """転入 of a person whose 住民票 names this ward as 本籍 but whom no 附票 row matches: a clerk's 照合 task."""
    w.begin()
    services.move_in(
        [person_data(honseki_municipality=WARD, honseki_address="北新宿九丁目9番", hittousha_name="佐藤　健太")],
        change_date=D,
        notified_on=D,
        previous_municipality=p["from"],
        previous_address="山下町1番地",
        new_household=NewHousehold("四谷二丁目2番"),
    )


def act_file_marriage_received(w: World, p: dict[str, Any]) -> None:
    """婚姻届 accepted here as 所在地: both live in the ward, both 本籍 elsewhere, the new 戸籍 in 大阪市. The
    住民票 follow here; the 附票 are the business of the old and new 本籍地 (19条3項 goes between them)."""
    husband = ResidentFactory()
    wife = ResidentFactory(
        household=husband.household,
        relationship="妻",
        given_name="花子",
        sex="2",
        surname="田中",
        surname_kana="タナカ",
    )
    place = KosekiPlace(honseki_municipality=OSAKA, honseki_address="北区9番")
    w.begin()
    filings.file_marriage(
        header(p), FiledPerson(resident=husband), FiledPerson(resident=wife), surname_from="husband", place=place
    )


def act_file_marriage_into_existing(w: World, p: dict[str, Any]) -> None:
    """婚姻届: the wife (a member of another 戸籍 of the ward, living elsewhere) enters the existing 戸籍 of which the
    husband (a resident) is 筆頭者. Nothing of the husband changes."""
    husband, entry, filed = subject("ward", "ward")
    wife_entry = member_living(SHIBUYA, surname="田中", given_name="花子", surname_kana="タナカ", sex="2", code=778)
    w.begin()
    filings.file_marriage(
        header(p), filed, FiledPerson(entry=wife_entry), surname_from="husband", place=KosekiPlace(koseki=entry.koseki)
    )


def recv_fuhyo_items_after_move_out(w: World, p: dict[str, Any]) -> None:
    """19条1項 about a person who moved out of the ward (our 除票 names the 転出先, our 附票 still the ward address):
    the 転入地 reports the 転入 (決定3・15)."""
    resident = ResidentFactory(juminhyo_code=CODE)
    entry = link_to_koseki(resident)
    services.move_out(
        [resident],
        planned_date=dt.date(2026, 11, 9),
        notified_on=dt.date(2026, 11, 1),
        destination_municipality=SHIBUYA,
        destination_address="神南一丁目2番3号",
    )
    who = inbound_person(
        juminhyo_code=CODE,
        honseki_address=entry.koseki.honseki_address,
        hittousha_name=entry.koseki.hittousha_name,
        address_municipality=p["sender"],
    )
    payload = inbound_fuhyo_items(who)
    payload["change"]["previous_address"] = f"東京都新宿区{resident.address}"
    receive_from(w, p["sender"], "fuhyo_items", payload)
    w.observed["fuhyo_address"] = entry.current_address().municipality_id


def act_file_death_typed_address(w: World, p: dict[str, Any]) -> None:
    """死亡届 for a member of our 戸籍 whose 附票 shows 渋谷区, the 届書 giving another 住所 (中野区): the 住所地
    comes from our 住民票, then the 附票, and only then from the 届書."""
    entry = member_living(SHIBUYA)
    filed = FiledPerson(entry=entry, address_municipality=NAKANO, address="中央一丁目1番")
    w.begin()
    filings.file_death(header(p), filed, date_of_death=D)


def act_file_divorce(w: World, p: dict[str, Any]) -> None:
    """離婚届 (76条): the wife, a resident whose 本籍 is here, returns to her parents' 戸籍 in 大阪市."""
    _, _, filed = subject("ward", "ward")
    place = KosekiPlace(
        honseki_municipality=OSAKA, honseki_address="北区3番", hittousha_surname="田中", hittousha_given_name="父"
    )
    w.begin()
    kind = FilingKind.DIVORCE
    filings.file_relocation(kind, header(p), [filed], place, new_surname="田中", new_surname_kana="タナカ")


def recv_juminhyo_items_confirmed(w: World, p: dict[str, Any]) -> None:
    """A 9条2項 notice of a 転籍 into this ward (from 渋谷区), confirmed by a clerk: the 住民票 takes the new 本籍;
    our 附票 was opened by the 本籍転属通知 before; the old 本籍地 closed its own (決定3)."""
    from transfers import inbox

    resident = ResidentFactory(juminhyo_code=CODE)
    entry = link_to_koseki(resident)
    Resident.objects.filter(pk=resident.pk).update(honseki_municipality_id=SHIBUYA, honseki_address="神南一丁目1番")
    resident.refresh_from_db()
    payload = {
        "filing": {"kind": "honseki_transfer", "filed_on": "2026-11-20", "accepted_on": "2026-11-20"},
        "person": {
            "role": "subject",
            "juminhyo_code": CODE,
            "surname": resident.surname,
            "given_name": resident.given_name,
            "surname_kana": resident.surname_kana,
            "given_name_kana": resident.given_name_kana,
            "birth_date": resident.birth_date.isoformat(),
            "sex": resident.sex,
            "address": resident.address,
            "changes": {
                "honseki_municipality": WARD,
                "honseki_address": entry.koseki.honseki_address,
                "hittousha_name": entry.koseki.hittousha_name,
            },
            "removed": False,
        },
    }
    notice = receive_from(w, SHIBUYA, "juminhyo_items", payload)
    clerk = request_clerk()
    inbox.confirm(notice, clerk)
    notice.refresh_from_db()
    resident.refresh_from_db()
    w.observed["state"] = notice.state
    w.observed["juminhyo_honseki"] = resident.honseki_municipality_id


def request_clerk():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="clerk")


ACTIONS: dict[str, Callable[[World, dict[str, Any]], None]] = {
    "move_in": act_move_in,
    "move_within": act_move_within,
    "move_out": act_move_out,
    "death_report": act_death_report,
    "household_head": act_household_head,
    "amend": act_amend,
    "file_death": act_file_death,
    "file_birth": act_file_birth,
    "file_surname_change": act_file_surname_change,
    "file_honseki_transfer": act_file_honseki_transfer,
    "file_record_only": act_file_record_only,
    "file_given_name_change": act_file_given_name_change,
    "file_furigana": act_file_furigana,
    "file_branch": act_file_branch,
    "file_marriage": act_file_marriage,
    "recv_fuhyo_items": recv_fuhyo_items,
    "recv_juminhyo_items": recv_juminhyo_items,
    "recv_move_in_notice": recv_move_in_notice,
    "recv_honseki_transfer": recv_honseki_transfer,
    "recv_honseki_check": recv_honseki_check,
    "deliver_unconnected": deliver_unconnected,
    "removal_or_entry": act_removal_or_entry,
    "split_household": act_split_household,
    "koseki_change": act_koseki_change,
    "file_new_national": act_file_new_national,
    "purge_with_short_retention": purge_with_short_retention,
    "move_in_unmatched": act_move_in_unmatched,
    "file_marriage_received": act_file_marriage_received,
    "file_marriage_into_existing": act_file_marriage_into_existing,
    "recv_fuhyo_items_after_move_out": recv_fuhyo_items_after_move_out,
    "file_death_typed_address": act_file_death_typed_address,
    "file_divorce": act_file_divorce,
    "recv_juminhyo_items_confirmed": recv_juminhyo_items_confirmed,
}


# --- The test -------------------------------------------------------------------------------------------------------


def _params() -> list:
    out = []
    for row in load_matrix()["rows"]:
        marks = [pytest.mark.xfail(strict=True, reason=row["xfail"])] if row.get("xfail") else []
        out.append(pytest.param(row, id=row["id"], marks=marks))
    return out


def expected_counter(row: dict[str, Any]) -> Counter:
    """(kind, receiver) → how many; a row may list one pair more than once, each with its own items."""
    counter: Counter = Counter()
    for spec in row["send"]:
        counter[(spec["kind"], spec["receiver"])] += spec.get("count", 1)
    return counter


def expected_items(row: dict[str, Any]) -> dict[tuple[str, str], list[list[str]]]:
    """(kind, receiver) → the items of each notice, for the pairs whose every entry in the row names them."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for spec in row["send"]:
        groups.setdefault((spec["kind"], spec["receiver"]), []).append(spec)
    return {
        pair: sorted(spec["items"] for spec in specs for _ in range(spec.get("count", 1)))
        for pair, specs in groups.items()
        if all("items" in spec for spec in specs)
    }


@pytest.mark.parametrize("row", _params())
def test_notice_matrix_row(row, as_clerk, request):
    world = World()
    if row["action"].startswith("recv_"):  # the receiving rows need this ward's keys
        world.observed["ward"] = request.getfixturevalue("ward")
    ACTIONS[row["action"]](world, {**row.get("params", {}), "lives": row["lives"], "honseki": row["honseki"]})
    sent = world.sent()
    if os.environ.get("MATRIX_SHOW"):
        print(row["id"], [(n.kind, n.receiver, items_of(n), n.payload.get("reason")) for n in sent])  # noqa: T201
    got = Counter((n.kind, n.receiver) for n in sent)
    assert got == expected_counter(row), f"sent {sorted(got.items())}"
    for forbidden in row.get("not_sent", []):
        assert (forbidden["kind"], forbidden["receiver"]) not in got
    for pair, items in expected_items(row).items():
        carried = sorted(items_of(n) for n in sent if (n.kind, n.receiver) == pair)
        assert carried == items, f"{pair}: {carried}"
    jlis = [n.payload for n in sent if n.kind == "jlis_fuhyo"]
    world.observed.setdefault("unmatched_tasks", world.events(ChangeEvent.Kind.FUHYO_UNMATCHED))
    world.observed.setdefault("koseki_closed_events", world.events(ChangeEvent.Kind.KOSEKI_CLOSED))
    world.observed.setdefault("jlis_recorded_on", sorted({j["recorded_on"] for j in jlis}))
    world.observed.setdefault("jlis_reason", sorted({j["reason"] for j in jlis}))
    world.observed.setdefault("jlis_hittousha", sorted({j["person"]["hittousha_name"] for j in jlis}))
    for key, value in row.get("observed", {}).items():
        assert world.observed.get(key) == value, f"{key}: {world.observed.get(key)!r}"


WHERE = {(lives, honseki) for lives in ("ward", "elsewhere", "abroad") for honseki in ("ward", "elsewhere")}


def test_the_matrix_is_well_formed():
    """Every row names a known action, a citation, the where-columns, and only known kinds and receivers; ids are
    unique; and the table covers the issue's gaps 1–10 and 12."""
    matrix = load_matrix()
    rows = matrix["rows"]
    kinds = {"move_in_notice", "juminhyo_items", "fuhyo_items", "honseki_check", "honseki_transfer", "jlis_fuhyo"}
    assert len({row["id"] for row in rows}) == len(rows)
    for row in rows:
        assert row["action"] in ACTIONS, row["id"]
        assert all(row[column] for column in ("cite", "case", "filer")), row["id"]
        assert (row["lives"], row["honseki"]) in WHERE, row["id"]
        for spec in [*row["send"], *row.get("not_sent", [])]:
            assert spec["kind"] in kinds, row["id"]
            assert spec["receiver"] in matrix["receivers"], row["id"]
    assert len(rows) >= 60
    covered = {gap for row in rows for gap in row["gaps"]}
    assert covered >= {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12}, sorted(covered)


def test_docs_notices_md_shows_the_matrix_as_it_stands():
    """docs/notices.md 「通知の適合表」 is generated from the data file: regenerate it with
    `python scripts/render_notice_matrix.py` after a change to docs/notice-matrix.json."""
    import importlib.util

    path = Path(settings.BASE_DIR) / "scripts" / "render_notice_matrix.py"
    spec = importlib.util.spec_from_file_location("render_notice_matrix", path)
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    assert (Path(settings.BASE_DIR) / "docs" / "notices.md").read_text(encoding="utf-8") == render.rendered_document()
