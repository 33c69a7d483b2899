"""Authority of inbound notices (threat model invariant 6): a validly
signed notice from a registered partner changes our records only when that partner is entitled to say this about
this person. For every kind: from the entitled sender it is applied (or waits) as before; from a registered partner
that is not entitled it changes no row of the 住民票 / 附票 / 戸籍, writes no outbound notice, waits for a clerk with
the reason in Japanese, writes one `authority_refused` audit entry, and the sender still gets its `accepted` ack."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from pathlib import Path

import pytest
from django.urls import reverse

from audit.models import AuditLogEntry
from common.context import audit_context
from common.errors import ServiceError
from common.juminhyo_codes import juminhyo_code_for
from common.roles import KOSEKI_CLERK, assign_role, ensure_roles
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry, Koseki
from registry import services
from registry.models import Resident
from registry.tests.factories import ResidentFactory, elsewhere
from registry.tests.factories import ward as ward_municipality
from transfers import authority, handlers, inbox
from transfers.acks import ACCEPTED, read_ack
from transfers.envelope import Identity
from transfers.inbound import receive
from transfers.models import InboundNotice, OutboundNotice
from transfers.routing import JLIS, NoticeKind

from .inbound_support import (
    NAKANO,
    SHIBUYA,
    entries_after,
    fuhyo_items,
    koseki_person,
    last_entry_id,
    person,
    post,
    register,
    sealed,
    shibuya_fixture,  # noqa: F401 - the `shibuya` fixture
    ward_fixture,  # noqa: F401 - the `ward` fixture
)

pytestmark = pytest.mark.django_db

CODE = juminhyo_code_for(1)
WARD = "131041"


@pytest.fixture
def nakano(ward) -> Identity:
    """A second registered partner (中野区): valid keys, no authority over the people of these tests."""
    identity = Identity.generate(NAKANO)
    register(identity)
    return identity


def rows() -> dict[str, list]:
    """Every row of the registers a notice could change, and the outbox."""
    return {
        "resident": list(Resident.objects.order_by("pk").values()),
        "fuhyo_entry": list(FuhyoEntry.objects.order_by("pk").values()),
        "fuhyo_address": list(FuhyoAddress.objects.order_by("pk").values()),
        "koseki": list(Koseki.objects.order_by("pk").values()),
        "outbound": list(OutboundNotice.objects.order_by("pk").values_list("pk", flat=True)),
    }


def deliver(client, sender: Identity, ward: Identity, kind: str, payload: dict) -> InboundNotice:
    raw = sealed(sender, ward, kind, payload)
    response = post(client, raw)
    assert response.status_code == 200, response.content
    notice = InboundNotice.objects.order_by("-pk").first()
    assert read_ack(response.content, sender, ward.public, str(notice.message_id)).status == ACCEPTED
    return notice


def assert_refused(client, sender: Identity, ward: Identity, kind: str, payload: dict, code: str) -> InboundNotice:
    """The notice is stored waiting (要確認) with the reason, changes nothing, and is logged once as refused."""
    before, mark = rows(), last_entry_id()
    response = post(client, sealed(sender, ward, kind, payload))
    assert response.status_code == 200, response.content  # acknowledged as received
    assert rows() == before  # no 住民票 / 附票 / 戸籍 row changed, no notice to J-LIS or anyone
    notice = InboundNotice.objects.order_by("-pk").first()
    assert (notice.state, notice.resolution, notice.change_group) == ("waiting", "", None)
    assert notice.authority_refusal
    assert notice.problem.startswith(notice.authority_refusal)
    assert entries_after(mark) == [
        ("received", "done", ""),
        ("authority_refused", "denied", code),
        ("waiting", "done", ""),
    ]
    refusal = AuditLogEntry.objects.get(pk__gt=mark, action="authority_refused")
    assert refusal.conditions["notice_id"] == notice.pk
    assert refusal.conditions["partner"] == sender.code
    # The ack is the usual one: nothing of our records, nothing of the refusal.
    ack = read_ack(response.content, sender, ward.public, str(notice.message_id))
    assert ack.status == ACCEPTED
    return notice


# --- The rule table covers every kind a handler exists for ----------------------------------------------------------


def test_every_received_kind_has_an_authority_rule_and_a_review():
    assert set(authority.RULES) == set(handlers.HANDLERS)
    assert all(callable(getattr(module, "review", None)) for module in handlers.HANDLERS.values())


def test_a_kind_without_a_rule_is_refused(monkeypatch):
    monkeypatch.delitem(authority.RULES, NoticeKind.MOVE_IN)
    verdict = authority.check(InboundNotice(kind=NoticeKind.MOVE_IN, sender=SHIBUYA, payload={}))
    assert (verdict.allowed, verdict.code) == (False, "no_rule")


def test_jlis_sends_none_of_the_municipal_kinds():
    for kind in handlers.HANDLERS:
        verdict = authority.check(InboundNotice(kind=kind, sender=JLIS, payload={}))
        assert (verdict.allowed, verdict.code) == (False, "jlis")


# --- 附票記載事項通知 (19条1項) --------------------------------------------------------------------------------------


def resident_with_fuhyo(code: str = CODE) -> tuple[Resident, FuhyoEntry]:
    """Finding 5's person: 住民票 current in this ward (131041), 本籍 here too, so a 附票 row with the same address."""
    entry = koseki_person(code)
    resident = ResidentFactory(
        juminhyo_code=code, honseki_municipality=ward_municipality(), honseki_address="北新宿一丁目1番"
    )
    return resident, entry


def test_finding_5_a_partner_cannot_move_a_resident_of_this_ward_on_the_fuhyo(client, shibuya, ward):
    """As reproduced: a validly signed 19条1項 notice from 131130 about a person whose 住民票 is in 131041."""
    resident, entry = resident_with_fuhyo()
    payload = fuhyo_items(person(juminhyo_code=CODE))  # 転入 to 渋谷区, 従前の住所 = our address
    notice = assert_refused(client, shibuya, ward, "fuhyo_items", payload, "resident_here")
    assert "住民票はこの区に現存" in notice.authority_refusal
    assert entry.current_address().municipality_id == WARD
    assert not OutboundNotice.objects.filter(receiver=JLIS).exists()
    assert notice.fuhyo_entry == entry  # the clerk sees whom it names


def test_a_partner_that_is_not_the_juushochi_cannot_rewrite_the_fuhyo(client, shibuya, nakano, ward):
    entry = koseki_person(CODE)
    FuhyoAddress.objects.filter(entry=entry).update(is_current=False)
    FuhyoAddress.objects.create(
        entry=entry,
        municipality=elsewhere(SHIBUYA),
        address="神南一丁目2番3号",
        established_on=dt.date(2026, 11, 10),
        recorded_on=dt.date(2026, 11, 12),
        reason="転入",
    )
    forged = fuhyo_items(
        person(juminhyo_code=CODE, address_municipality=NAKANO, address="中央一丁目1番1号"),
        reason="move_in",
        change_date="2026-11-20",
    )
    forged["person"]["address_established_on"] = "2026-11-20"
    notice = assert_refused(client, nakano, ward, "fuhyo_items", forged, "not_residence")
    assert (notice.fuhyo_entry, entry.current_address().municipality_id) == (entry, SHIBUYA)
    # The entitled 住所地 (渋谷区) moves the person within its area: applied as before.
    moved = fuhyo_items(
        person(juminhyo_code=CODE, address="宇田川町1番1号", address_established_on="2026-11-25"),
        reason="move_within",
        change_class="amendment",
        change_date="2026-11-25",
    )
    applied = deliver(client, shibuya, ward, "fuhyo_items", moved)
    assert (applied.state, applied.resolution, applied.authority_refusal) == ("applied", "auto", "")
    assert entry.current_address().address == "宇田川町1番1号"
    assert OutboundNotice.objects.filter(receiver=JLIS).count() == 1


def test_the_tennyuchi_named_by_the_previous_address_is_entitled(client, shibuya, ward):
    """The person left this ward (除票), our 附票 still holds the ward address: 渋谷区 reports the 転入 there."""
    resident, entry = resident_with_fuhyo()
    with audit_context(None, "test"):
        services.move_out(
            [resident],
            planned_date=dt.date(2026, 11, 9),
            notified_on=dt.date(2026, 11, 1),
            destination_municipality=SHIBUYA,
            destination_address="神南一丁目2番3号",
        )
    before = OutboundNotice.objects.count()
    notice = deliver(client, shibuya, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=CODE)))
    assert (notice.state, notice.authority_refusal) == ("applied", "")
    assert entry.current_address().municipality_id == SHIBUYA
    assert OutboundNotice.objects.filter(receiver=JLIS).count() == before + 1
    state = AuditLogEntry.objects.filter(action="applied").latest("pk")
    assert state.conditions["authority"] == "move_in_destination"


def test_a_tennyu_notice_from_another_than_the_destination_of_our_removed_record_waits(client, shibuya, nakano, ward):
    resident, entry = resident_with_fuhyo()
    with audit_context(None, "test"):
        services.move_out(
            [resident],
            planned_date=dt.date(2026, 11, 9),
            notified_on=dt.date(2026, 11, 1),
            destination_municipality=SHIBUYA,
            destination_address="神南一丁目2番3号",
        )
    claim = fuhyo_items(person(juminhyo_code=CODE, address_municipality=NAKANO, address="中央一丁目1番1号"))
    notice = assert_refused(client, nakano, ward, "fuhyo_items", claim, "other_destination")
    assert (notice.fuhyo_entry, entry.current_address().municipality_id) == (entry, WARD)


def test_a_tennyu_notice_with_another_previous_address_waits(client, shibuya, ward):
    koseki_person(CODE)
    payload = fuhyo_items(person(juminhyo_code=CODE))
    payload["change"]["previous_address"] = "東京都新宿区西新宿二丁目1番2号"
    assert_refused(client, shibuya, ward, "fuhyo_items", payload, "not_residence")


def test_the_notified_address_must_lie_in_the_senders_area(client, shibuya, ward):
    koseki_person(CODE)
    payload = fuhyo_items(person(juminhyo_code=CODE, address_municipality=NAKANO))
    notice = assert_refused(client, shibuya, ward, "fuhyo_items", payload, "address_elsewhere")
    assert "区域にありません" in notice.authority_refusal


def test_an_older_notice_does_not_move_the_address_back(client, shibuya, ward):
    entry = koseki_person(CODE)
    deliver(client, shibuya, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=CODE)))  # 転入 2026-11-10
    late = fuhyo_items(
        person(juminhyo_code=CODE, address="道玄坂一丁目1番", address_established_on="2026-11-01"),
        reason="move_within",
        change_class="amendment",
        change_date="2026-11-01",
    )
    assert_refused(client, shibuya, ward, "fuhyo_items", late, "stale")
    assert entry.current_address().address == "神南一丁目2番3号"


def test_a_fuhyo_notice_about_nobody_here_is_left_to_the_handler(client, nakano, ward):
    notice = deliver(client, nakano, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=CODE)))
    assert (notice.state, notice.authority_refusal, notice.fuhyo_entry) == ("waiting", "", None)
    assert FuhyoEntry.objects.count() == 0


def test_a_refused_notice_gets_no_honseki_check_but_can_be_confirmed_by_a_clerk(client, shibuya, nakano, ward, clerk):
    entry = koseki_person(CODE)
    payload = fuhyo_items(person(juminhyo_code=CODE, given_name="太朗", address_municipality=NAKANO))
    payload["change"]["previous_address"] = "東京都渋谷区神南一丁目2番3号"  # not what our 附票 holds
    notice = assert_refused(client, nakano, ward, "fuhyo_items", payload, "not_residence")
    assert notice.differences == [{"item": "given_name", "label": "名", "notified": "太朗", "koseki": "太郎"}]
    with pytest.raises(ServiceError, match="本籍照合通知"):
        inbox.send_honseki_check(notice, clerk)
    assert not OutboundNotice.objects.filter(kind="honseki_check").exists()
    # A clerk who checked with the partner may still apply it, through the existing confirmation, saying what
    # they checked.
    with pytest.raises(ServiceError, match="処理メモ"):
        inbox.confirm(notice, clerk)
    assert entry.current_address().municipality_id == WARD
    inbox.confirm(notice, clerk, note="中野区に電話で確認")
    notice.refresh_from_db()
    assert (notice.state, notice.resolution, notice.resolution_note) == ("done", "confirmed", "中野区に電話で確認")
    resolved = AuditLogEntry.objects.filter(action="resolved").latest("pk")
    assert (resolved.conditions["authority_override"], resolved.user) == (True, clerk)
    assert entry.current_address().municipality_id == NAKANO


def test_the_inbox_shows_the_reason(client, nakano, ward, django_user_model):
    koseki_person(CODE)
    payload = fuhyo_items(person(juminhyo_code=CODE, address_municipality=NAKANO))
    payload["change"]["previous_address"] = "東京都渋谷区神南一丁目2番3号"
    notice = assert_refused(client, nakano, ward, "fuhyo_items", payload, "not_residence")
    user = django_user_model.objects.create_user("koseki2", password="pass-for-tests-only")
    assign_role(user, KOSEKI_CLERK, ensure_roles())
    client.force_login(user)
    listing = client.get(reverse("notices:inbox")).content.decode()
    assert "要確認（送信元の権限）" in listing
    assert notice.authority_refusal in listing
    accepted = deliver(client, nakano, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=juminhyo_code_for(3))))
    only = client.get(reverse("notices:inbox"), {"authority_refused": "on"}).content.decode()
    assert str(notice.message_id)[:8] in only
    assert str(accepted.message_id)[:8] not in only
    assert str(accepted.message_id)[:8] in client.get(reverse("notices:inbox")).content.decode()
    detail = client.get(reverse("notices:inbound", args=[notice.pk])).content.decode()
    assert "送信元の権限" in detail
    assert notice.authority_refusal in detail
    assert "本籍照合通知を送る" not in detail
    url = reverse("notices:resolve", args=[notice.pk])
    form = client.post(url, {"action": "confirm", "note": "", "step": "confirm"}).content.decode()
    assert authority.CONFIRM_NEEDS_NOTE in form
    assert "send_honseki_check" not in form
    notice.refresh_from_db()
    assert notice.state == "waiting"


# --- 住民票記載事項通知 (9条2項) -------------------------------------------------------------------------------------


def juminhyo_items(resident: Resident, changes: dict, kind: str = "death") -> dict:
    return {
        "filing": {"kind": kind, "filed_on": "2026-11-20", "accepted_on": "2026-11-20"},
        "person": {
            "role": "subject",
            "juminhyo_code": resident.juminhyo_code,
            "surname": resident.surname,
            "given_name": resident.given_name,
            "surname_kana": resident.surname_kana,
            "given_name_kana": resident.given_name_kana,
            "birth_date": resident.birth_date.isoformat(),
            "sex": resident.sex,
            "address": resident.address,
            "changes": changes,
            "removed": "removed" in changes,
        },
    }


def test_juminhyo_items_from_the_honsekichi_wait_as_before(client, shibuya, ward):
    resident = ResidentFactory(honseki_municipality=elsewhere(SHIBUYA))
    payload = juminhyo_items(resident, {"removed": "death", "removed_on": "2026-11-18"})
    notice = deliver(client, shibuya, ward, "juminhyo_items", payload)
    assert (notice.state, notice.authority_refusal, notice.resident) == ("waiting", "", resident)


def test_juminhyo_items_from_another_partner_say_so_to_the_clerk(client, nakano, ward, clerk):
    resident = ResidentFactory(honseki_municipality=elsewhere(SHIBUYA))
    payload = juminhyo_items(resident, {"removed": "death", "removed_on": "2026-11-18"})
    notice = assert_refused(client, nakano, ward, "juminhyo_items", payload, "not_honsekichi")
    assert "受理" in notice.authority_refusal
    assert notice.resident == resident
    assert any(d["item"] == "removed" for d in notice.differences)  # the proposal is still shown
    resident.refresh_from_db()
    assert resident.status == "current"


# --- 本籍照合通知 (19条2項) ------------------------------------------------------------------------------------------


def honseki_check(code: str, in_reply_to: str) -> dict:
    return {
        "in_reply_to": in_reply_to,
        "juminhyo_code": code,
        "found": False,
        "differences": [],
        "koseki_values": None,
    }


def test_a_honseki_check_answering_our_notice_is_accepted(client, shibuya, ward):
    resident = ResidentFactory(juminhyo_code=CODE, honseki_municipality=elsewhere(NAKANO))
    ours = OutboundNotice.objects.create(
        kind="fuhyo_items", receiver=SHIBUYA, payload={}, juminhyo_code=CODE
    )  # sent to the old 本籍地 before the 本籍 moved
    notice = deliver(client, shibuya, ward, "honseki_check", honseki_check(CODE, str(ours.message_id)))
    assert (notice.state, notice.authority_refusal, notice.resident) == ("waiting", "", resident)


def test_a_honseki_check_from_the_honsekichi_is_accepted(client, shibuya, ward):
    ResidentFactory(juminhyo_code=CODE, honseki_municipality=elsewhere(SHIBUYA))
    notice = deliver(client, shibuya, ward, "honseki_check", honseki_check(CODE, str(uuid.uuid4())))
    assert (notice.state, notice.authority_refusal) == ("waiting", "")


def test_a_honseki_check_from_elsewhere_is_flagged(client, shibuya, nakano, ward):
    resident = ResidentFactory(juminhyo_code=CODE, honseki_municipality=elsewhere(SHIBUYA))
    ours = OutboundNotice.objects.create(kind="fuhyo_items", receiver=SHIBUYA, payload={}, juminhyo_code=CODE)
    notice = assert_refused(
        client, nakano, ward, "honseki_check", honseki_check(CODE, str(ours.message_id)), "not_honsekichi"
    )
    assert notice.resident == resident
    # Our notice about another person does not entitle 渋谷区 to speak about this one.
    other = juminhyo_code_for(2)
    ours_other = OutboundNotice.objects.create(kind="fuhyo_items", receiver=NAKANO, payload={}, juminhyo_code=other)
    assert_refused(
        client, nakano, ward, "honseki_check", honseki_check(CODE, str(ours_other.message_id)), "not_honsekichi"
    )


# --- 本籍転属通知 (19条3項) ------------------------------------------------------------------------------------------


def honseki_transfer(who: dict, old: str = SHIBUYA) -> dict:
    new = {"municipality": WARD, "address": "新宿六丁目1番", "hittousha_name": "山田　太郎"}
    return {
        "filing": {"kind": "honseki_transfer", "filed_on": "2026-11-20", "accepted_on": "2026-11-20"},
        "person": {
            **who,
            "honseki_municipality": WARD,
            "honseki_address": new["address"],
            "hittousha_name": "山田　太郎",
        },
        "abroad": None,
        "old_honseki": {"municipality": old, "address": "神南一丁目1番", "hittousha_name": "山田　太郎"},
        "new_honseki": new,
    }


def test_a_honseki_transfer_from_the_old_honsekichi_opens_the_fuhyo(client, shibuya, ward):
    ResidentFactory(juminhyo_code=CODE, honseki_municipality=elsewhere(SHIBUYA))  # lives here, 本籍 in 渋谷区
    notice = deliver(client, shibuya, ward, "honseki_transfer", honseki_transfer(person(juminhyo_code=CODE)))
    assert (notice.state, notice.authority_refusal) == ("applied", "")
    assert notice.fuhyo_entry.koseki.honseki_address == "新宿六丁目1番"


def test_a_honseki_transfer_from_another_than_the_old_honsekichi_opens_nothing(client, nakano, ward):
    payload = honseki_transfer(person(juminhyo_code=CODE))  # 従前の本籍: 渋谷区
    notice = assert_refused(client, nakano, ward, "honseki_transfer", payload, "not_old_honsekichi")
    assert (Koseki.objects.count(), FuhyoEntry.objects.count()) == (0, 0)
    assert notice.fuhyo_entry is None


def test_a_honseki_transfer_against_our_juminhyo_opens_nothing(client, nakano, ward):
    ResidentFactory(juminhyo_code=CODE, honseki_municipality=elsewhere(SHIBUYA))
    payload = honseki_transfer(person(juminhyo_code=CODE), old=NAKANO)  # 中野区 claims to be the old 本籍地
    assert_refused(client, nakano, ward, "honseki_transfer", payload, "other_honsekichi")
    assert Koseki.objects.count() == 0


def test_a_honseki_transfer_about_someone_in_another_koseki_here_opens_nothing(client, shibuya, ward):
    entry = koseki_person(CODE, honseki_address="北新宿一丁目1番")
    notice = assert_refused(
        client, shibuya, ward, "honseki_transfer", honseki_transfer(person(juminhyo_code=CODE)), "honseki_here"
    )
    assert notice.fuhyo_entry == entry


# --- 転入通知 (9条1項) ----------------------------------------------------------------------------------------------


def move_in_notice(code: str) -> dict:
    return {
        "person": person(juminhyo_code=code),
        "change": {
            "reason": "move_in",
            "change_date": "2026-11-15",
            "notified_on": "2026-11-16",
            "previous_address": "東京都新宿区西新宿二丁目1番1号",
            "new_address": "東京都渋谷区神南一丁目2番3号",
        },
    }


def moved_out(destination: str = SHIBUYA) -> Resident:
    resident = ResidentFactory(juminhyo_code=CODE)
    with audit_context(None, "test"):
        services.move_out(
            [resident],
            planned_date=dt.date(2026, 11, 14),
            notified_on=dt.date(2026, 11, 10),
            destination_municipality=destination,
            destination_address="神南一丁目2番3号",
        )
    resident.refresh_from_db()
    return resident


def test_a_move_in_notice_from_the_destination_completes_the_removed_record(client, shibuya, ward):
    resident = moved_out()
    notice = deliver(client, shibuya, ward, "move_in_notice", move_in_notice(CODE))
    assert (notice.state, notice.authority_refusal, notice.resident) == ("applied", "", resident)
    resident.refresh_from_db()
    assert resident.move_out_confirmed_on == dt.date(2026, 11, 15)


def test_a_move_in_notice_from_another_partner_waits(client, nakano, ward, clerk):
    resident = moved_out()
    notice = assert_refused(client, nakano, ward, "move_in_notice", move_in_notice(CODE), "other_destination")
    assert notice.resident == resident
    resident.refresh_from_db()
    assert resident.move_out_confirmed_on is None
    inbox.confirm(notice, clerk, note="転出証明書を中野区で使ったことを確認")  # a 転入 elsewhere than planned
    resident.refresh_from_db()
    assert resident.move_out_confirmed_on == dt.date(2026, 11, 15)


def test_a_move_in_notice_about_a_current_resident_waits(client, shibuya, ward, clerk):
    resident = ResidentFactory(juminhyo_code=CODE, given_name="一郎")
    notice = assert_refused(client, shibuya, ward, "move_in_notice", move_in_notice(CODE), "resident_here")
    # Kept with the 住民票 it concerns (its page goes through that person's visibility rule), compared with it.
    assert notice.resident == resident
    assert notice.differences == [
        {"item": "given_name", "label": "名", "notified": "太郎", "juminhyo": "一郎"},
    ]
    with pytest.raises(ServiceError):
        inbox.confirm(notice, clerk)  # there is no 除票 to complete
    resident.refresh_from_db()
    assert (resident.status, resident.move_in_notice_received_on) == ("current", None)


def test_a_refused_notice_about_a_restricted_person_opens_only_with_a_grant(client, shibuya, ward, django_user_model):
    resident_with_fuhyo()
    Resident.objects.filter(juminhyo_code=CODE).update(access_restricted=True)
    FuhyoEntry.objects.filter(juminhyo_code=CODE).update(access_restricted=True)
    notice = assert_refused(client, shibuya, ward, "move_in_notice", move_in_notice(CODE), "resident_here")
    user = django_user_model.objects.create_user("koseki3", password="pass-for-tests-only")
    assign_role(user, KOSEKI_CLERK, ensure_roles())
    client.force_login(user)
    assert client.get(reverse("notices:inbound", args=[notice.pk])).status_code == 404


def test_a_move_in_notice_after_an_ex_officio_removal_names_no_destination(client, nakano, ward):
    resident = ResidentFactory(juminhyo_code=CODE)
    with audit_context(None, "test"):
        services.ex_officio_removal([resident], change_date=dt.date(2026, 11, 1), note="実態調査")
    notice = deliver(client, nakano, ward, "move_in_notice", move_in_notice(CODE))
    assert (notice.state, notice.authority_refusal) == ("applied", "")


# --- The audit entries carry no personal data -------------------------------------------------------------------


def test_the_refusal_entry_names_codes_not_people(client, shibuya, ward):
    resident_with_fuhyo()
    mark = last_entry_id()
    post(client, sealed(shibuya, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=CODE))))
    for entry in AuditLogEntry.objects.filter(pk__gt=mark):
        text = json.dumps(entry.conditions, ensure_ascii=False)
        assert "山田" not in text
        assert CODE not in text
        assert "西新宿" not in text


def test_receive_without_http_applies_the_same_rule(shibuya, ward):
    resident_with_fuhyo()
    reply = receive(sealed(shibuya, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=CODE))), via="spool")
    assert reply.status == 200
    notice = InboundNotice.objects.get()
    assert (notice.via, notice.state, bool(notice.authority_refusal)) == ("spool", "waiting", True)


def test_docs_state_the_rule_of_every_kind_and_every_refusal_code():
    root = Path(authority.__file__).resolve().parents[1]
    doc = (root / "docs" / "notices.md").read_text(encoding="utf-8")
    sections = re.split(r"^### ", doc, flags=re.MULTILINE)
    for kind in handlers.HANDLERS:
        section = next(s for s in sections if s.startswith(f"`{kind}`"))
        assert "送信元の権限（受信）" in section, kind
    codes = set(re.findall(r'refused\(\s*"(\w+)"', Path(authority.__file__).read_text(encoding="utf-8")))
    assert {"resident_here", "not_residence", "stale", "not_honsekichi", "other_destination"} <= codes
    for code in codes - {"no_rule", "jlis"}:
        assert f"`{code}`" in doc, code
