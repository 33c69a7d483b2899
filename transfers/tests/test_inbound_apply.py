"""Received notices applied through the registers' services: automatically where the product decisions allow it
(and then with the follow-up J-LIS notice), otherwise waiting for a clerk with the differences; the clerk's
resolutions; the spool inbox."""

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest

from audit.models import AuditLogEntry
from common.errors import ServiceError
from common.juminhyo_codes import juminhyo_code_for
from common.testing.actors import acting_as
from koseki_fuhyo.models import FuhyoEntry, Koseki
from registry import services
from registry.choices import ResidentStatus
from registry.tests.factories import ResidentFactory, elsewhere
from transfers import inbox
from transfers.acks import ACCEPTED, DUPLICATE, read_ack
from transfers.envelope import Identity, read_header
from transfers.inbound import process_spool_inbox, receive
from transfers.inbound_tasks import poll_spool_inboxes
from transfers.models import InboundNotice, OutboundNotice, Partner
from transfers.routing import JLIS
from transfers.selectors import InboxFilter, inbox_page

from .inbound_support import (
    SHIBUYA,
    fuhyo_items,
    koseki_person,
    person,
    register,
    sealed,
    shibuya_fixture,  # noqa: F401 - the `shibuya` fixture
    ward_fixture,  # noqa: F401 - the `ward` fixture
)

pytestmark = pytest.mark.django_db

CODE = juminhyo_code_for(1)
WARD = "131041"


def deliver(sender: Identity, ward: Identity, kind: str, payload: dict) -> InboundNotice:
    reply = receive(sealed(sender, ward, kind, payload), via="http")
    assert reply.status == 200, reply.body
    return InboundNotice.objects.order_by("-pk").first()


def jlis_notices():
    return list(OutboundNotice.objects.filter(kind="jlis_fuhyo", receiver=JLIS))


def resolved_entries():
    return list(AuditLogEntry.objects.filter(category="transmission", action="resolved").order_by("pk"))


# --- 附票記載事項通知 (19条1項): we are the 本籍地 ---------------------------------------------------------------


def test_fuhyo_items_that_agree_update_the_fuhyo_and_notify_jlis(shibuya, ward):
    entry = koseki_person(CODE)
    notice = deliver(shibuya, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=CODE)))
    assert (notice.state, notice.resolution, notice.fuhyo_entry) == ("applied", "auto", entry)
    current = entry.current_address()
    assert (current.municipality_id, current.address, current.established_on) == (
        SHIBUYA,
        "神南一丁目2番3号",
        dt.date(2026, 11, 10),
    )
    assert current.reason == "転入"
    assert len(jlis_notices()) == 1
    assert notice.change_group == jlis_notices()[0].event.change_group
    audit = AuditLogEntry.objects.filter(category="transmission").order_by("pk")
    assert [e.action for e in audit] == ["received", "applied"]
    assert all("山田" not in json.dumps(e.conditions, ensure_ascii=False) for e in audit)
    assert audit[0].conditions["digest"] == notice.payload_digest


def test_a_fuhyo_row_without_a_code_is_matched_on_identity_in_the_named_koseki_and_gets_the_code(shibuya, ward):
    """The row of a spouse from outside the ward has no 住民票コード; the 住所地's notice names the
    person, the 戸籍 (本籍, 筆頭者) and the code: matched on 氏名 + 生年月日 + 性別 there, the code is written to the
    附票 (17条7号) and J-LIS is told."""
    entry = koseki_person("")
    notice = deliver(shibuya, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=CODE)))
    assert (notice.state, notice.resolution, notice.fuhyo_entry) == ("applied", "auto", entry)
    entry.refresh_from_db()
    assert entry.juminhyo_code == CODE
    assert entry.current_address().municipality_id == SHIBUYA
    told = [n.payload for n in jlis_notices()]
    assert "code_amendment" in {p["record_kind"] for p in told}
    assert {p["person"]["juminhyo_code"] for p in told} == {CODE}


@pytest.mark.parametrize("other", ["twin in the same koseki", "only in another koseki"])
def test_a_row_without_a_code_that_is_not_one_clear_match_waits(shibuya, ward, other):
    from koseki_fuhyo.tests.factories import FuhyoEntryFactory

    if other == "twin in the same koseki":
        first = koseki_person("")
        FuhyoEntryFactory(koseki=first.koseki, juminhyo_code="")  # 山田 太郎, 1980-05-01, 男: the same again
    else:
        first = koseki_person("", honseki_address="北新宿九丁目9番")
    notice = deliver(shibuya, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=CODE)))
    assert notice.state == "waiting"
    assert not FuhyoEntry.objects.filter(juminhyo_code=CODE).exists()
    assert first.current_address().municipality_id == WARD
    assert jlis_notices() == []


def test_fuhyo_items_with_the_same_address_change_nothing(shibuya, ward):
    entry = koseki_person(CODE)
    deliver(shibuya, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=CODE)))  # 転入 to 渋谷区: 2 rows
    # 渋谷区, now the 住所地, notifies a change that leaves the address as it is (only an address in its own area:
    # a notice placing the person in this ward would be refused, transfers.authority).
    same_place = fuhyo_items(
        person(juminhyo_code=CODE), reason="household_head_change", change_class="amendment", change_date="2026-11-20"
    )
    notice = deliver(shibuya, ward, "fuhyo_items", same_place)
    assert notice.state == "applied"
    assert entry.addresses.count() == 2
    assert len(jlis_notices()) == 1


def test_fuhyo_items_move_out_abroad_records_the_country(shibuya, ward):
    entry = koseki_person(CODE)
    payload = fuhyo_items(person(juminhyo_code=CODE), reason="move_out_abroad", change_class="removal")
    payload["change"]["new_address"] = "国外（アメリカ合衆国）"
    deliver(shibuya, ward, "fuhyo_items", payload)
    current = entry.current_address()
    assert (current.is_abroad, current.country, current.established_on) == (
        True,
        "アメリカ合衆国",
        dt.date(2026, 11, 10),
    )
    assert len(jlis_notices()) == 1


def test_fuhyo_items_that_disagree_wait_with_the_differences(shibuya, ward, clerk):
    entry = koseki_person(CODE)
    notice = deliver(shibuya, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=CODE, given_name="太朗")))
    assert (notice.state, notice.fuhyo_entry, notice.problem != "") == ("waiting", entry, True)
    assert notice.differences == [{"item": "given_name", "label": "名", "notified": "太朗", "koseki": "太郎"}]
    assert entry.addresses.count() == 1
    assert jlis_notices() == []
    assert list(inbox_page(InboxFilter(state="waiting")).rows) == [notice]  # what the clerks' inbox lists

    inbox.confirm(notice, clerk, note="戸籍の記載を確認")
    notice.refresh_from_db()
    assert (notice.state, notice.resolution, notice.resolved_by, notice.resolution_note) == (
        "done",
        "confirmed",
        clerk,
        "戸籍の記載を確認",
    )
    assert entry.current_address().municipality_id == SHIBUYA
    assert len(jlis_notices()) == 1
    assert [e.conditions["resolution"] for e in resolved_entries()] == ["confirmed"]
    with pytest.raises(ServiceError, match="処理待ちではありません"):
        inbox.confirm(notice, clerk)
    with pytest.raises(ServiceError, match="処理待ちではありません"):
        inbox.dismiss(notice, clerk, note="重複")


def test_spaces_in_names_do_not_count_as_a_difference(shibuya, ward):
    koseki_person(CODE)
    notice = deliver(shibuya, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=CODE, hittousha_name="山田 太郎")))
    assert notice.state == "applied"


def test_a_fuhyo_notice_about_nobody_here_waits_and_answers_with_a_honseki_check(
    shibuya, ward, clerk, monkeypatch, django_capture_on_commit_callbacks
):
    notice = deliver(shibuya, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=CODE)))
    assert (notice.state, notice.fuhyo_entry, notice.differences) == ("waiting", None, [])
    with pytest.raises(ServiceError):
        inbox.confirm(notice, clerk)
    queued = []
    monkeypatch.setattr("transfers.tasks.enqueue", lambda ids: queued.extend(ids))
    with django_capture_on_commit_callbacks(execute=True):
        reply = inbox.send_honseki_check(notice, clerk)
    assert queued == [reply.pk]  # delivery starts once the resolution commits
    assert (reply.kind, reply.receiver, reply.in_reply_to, reply.actor, reply.state) == (
        "honseki_check",
        SHIBUYA,
        notice,
        clerk,
        "pending",
    )
    assert reply.payload == {
        "in_reply_to": str(notice.message_id),
        "juminhyo_code": CODE,
        "found": False,
        "differences": [],
        "koseki_values": None,
    }
    notice.refresh_from_db()
    assert (notice.state, notice.resolution) == ("done", "check_sent")


def test_a_honseki_check_carries_the_koseki_values(shibuya, ward, clerk):
    koseki_person(CODE)
    notice = deliver(shibuya, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=CODE, birth_date="1980-05-02")))
    reply = inbox.send_honseki_check(notice, clerk, note="生年月日が違う")
    assert reply.payload["found"] is True
    assert reply.payload["differences"] == [{"item": "birth_date", "notified": "1980-05-02", "koseki": "1980-05-01"}]
    assert reply.payload["koseki_values"]["hittousha_name"] == "山田　太郎"
    with pytest.raises(ServiceError):
        inbox.send_honseki_check(notice, clerk)
    assert OutboundNotice.objects.filter(kind="honseki_check").count() == 1


# --- 住民票記載事項通知 (9条2項): we are the 住所地 --------------------------------------------------------------


def juminhyo_items(resident, changes, kind="marriage", **person_items):
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
            **person_items,
        },
    }


def test_juminhyo_items_are_never_automatic_and_apply_on_confirmation(shibuya, ward, clerk):
    resident = ResidentFactory(honseki_municipality=elsewhere(SHIBUYA))
    changes = {
        "surname": "佐藤",
        "surname_kana": "サトウ",
        "honseki_municipality": SHIBUYA,
        "honseki_address": "宇田川町1番",
        "hittousha_name": "佐藤　一郎",
    }
    notice = deliver(shibuya, ward, "juminhyo_items", juminhyo_items(resident, changes))
    assert (notice.state, notice.resident) == ("waiting", resident)
    rows = {d["item"]: d for d in notice.differences}
    assert rows["surname"] == {"item": "surname", "label": "氏", "notified": "佐藤", "juminhyo": "山田", "change": True}
    resident.refresh_from_db()
    assert resident.surname == "山田"  # nothing until a clerk confirms

    with acting_as(clerk):
        inbox.confirm(notice, clerk)
    resident.refresh_from_db()
    assert (resident.surname, resident.honseki_address, resident.hittousha_name) == (
        "佐藤",
        "宇田川町1番",
        "佐藤　一郎",
    )
    notice.refresh_from_db()
    assert (notice.state, notice.resolution, notice.change_group is not None) == ("done", "confirmed", True)
    # The 住民票 change notifies the 本籍地 in turn (19条1項), written by the service itself.
    assert OutboundNotice.objects.filter(kind="fuhyo_items", receiver=SHIBUYA).exists()


def test_a_death_notified_by_the_honsekichi_removes_the_resident_on_confirmation(shibuya, ward, clerk):
    resident = ResidentFactory()
    payload = juminhyo_items(resident, {"removed": "death", "removed_on": "2026-11-18"}, kind="death")
    notice = deliver(shibuya, ward, "juminhyo_items", payload)
    assert notice.state == "waiting"
    inbox.confirm(notice, clerk)
    resident.refresh_from_db()
    assert (resident.status, resident.removed_on) == (ResidentStatus.REMOVED, dt.date(2026, 11, 18))


def test_juminhyo_items_that_cannot_be_applied_are_refused_and_keep_waiting(shibuya, ward, clerk):
    resident = ResidentFactory()
    notice = deliver(shibuya, ward, "juminhyo_items", juminhyo_items(resident, {"surname_kana": "yamada"}))
    with pytest.raises(ServiceError):
        inbox.confirm(notice, clerk)
    notice.refresh_from_db()
    assert notice.state == "waiting"
    resident.refresh_from_db()
    assert resident.surname_kana == "ヤマダ"


# --- 本籍照合通知 (19条2項): we are the 住所地 ---------------------------------------------------------------------


def test_a_honseki_check_opens_a_correction_task(shibuya, ward, clerk):
    resident = ResidentFactory(given_name="太郎")
    payload = {
        "in_reply_to": str(uuid.uuid4()),
        "juminhyo_code": resident.juminhyo_code,
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
    notice = deliver(shibuya, ward, "honseki_check", payload)
    assert (notice.state, notice.resident, notice.juminhyo_code) == ("waiting", resident, resident.juminhyo_code)
    assert notice.differences == [
        {"item": "given_name", "label": "名", "notified": "太郎", "koseki": "太朗", "juminhyo": "太郎"}
    ]
    with pytest.raises(ServiceError):
        inbox.confirm(notice, clerk)
    with pytest.raises(ServiceError):
        inbox.dismiss(notice, clerk, note=" ")
    inbox.mark_corrected(notice, clerk, note="職権修正済")
    notice.refresh_from_db()
    assert (notice.state, notice.resolution) == ("done", "corrected")
    with pytest.raises(ServiceError):
        inbox.mark_corrected(notice, clerk, note="もう一度")


# --- 本籍転属通知 (19条3項): we are the new 本籍地 ------------------------------------------------------------------


def honseki_transfer(who, address="新宿六丁目1番", hittousha="山田　太郎", municipality=WARD):
    new = {"municipality": municipality, "address": address, "hittousha_name": hittousha}
    return {
        "filing": {"kind": "honseki_transfer", "filed_on": "2026-11-20", "accepted_on": "2026-11-20"},
        "person": {
            **who,
            "honseki_municipality": municipality,
            "honseki_address": address,
            "hittousha_name": hittousha,
        },
        "abroad": None,
        "old_honseki": {"municipality": SHIBUYA, "address": "神南一丁目1番", "hittousha_name": hittousha},
        "new_honseki": new,
    }


def test_a_honseki_transfer_opens_the_koseki_and_its_fuhyo(shibuya, ward):
    first = deliver(shibuya, ward, "honseki_transfer", honseki_transfer(person(juminhyo_code=CODE)))
    assert first.state == "applied"
    koseki = Koseki.objects.get(honseki_address="新宿六丁目1番")
    assert (koseki.hittousha_surname, koseki.hittousha_given_name, koseki.formed_reason) == ("山田", "太郎", "転籍")
    entry = first.fuhyo_entry
    assert (entry.koseki, entry.juminhyo_code, entry.entered_reason) == (koseki, CODE, "転籍")
    assert (entry.current_address().municipality_id, entry.current_address().address) == (SHIBUYA, "神南一丁目2番3号")
    spouse = person(juminhyo_code=juminhyo_code_for(2), given_name="花子", given_name_kana="ハナコ", sex="2")
    second = deliver(shibuya, ward, "honseki_transfer", honseki_transfer(spouse))
    assert second.state == "applied", second.problem
    assert second.fuhyo_entry.koseki == koseki
    assert Koseki.objects.count() == 1
    assert len(jlis_notices()) == 2


def test_a_honseki_transfer_that_does_not_fit_waits_and_changes_nothing(shibuya, ward):
    bad_kana = person(juminhyo_code=CODE, surname_kana="yamada")
    notice = deliver(shibuya, ward, "honseki_transfer", honseki_transfer(bad_kana))
    assert notice.state == "waiting"
    assert "反映できませんでした" in notice.problem
    assert (Koseki.objects.count(), FuhyoEntry.objects.count(), jlis_notices()) == (0, 0, [])
    elsewhere_notice = deliver(
        shibuya, ward, "honseki_transfer", honseki_transfer(person(juminhyo_code=CODE), municipality="131148")
    )
    assert (elsewhere_notice.state, Koseki.objects.count()) == ("waiting", 0)


# --- 転入通知 (9条1項): we are the previous 住所地 -----------------------------------------------------------------


def move_in_notice(resident, **overrides):
    return {
        "person": person(
            juminhyo_code=resident.juminhyo_code,
            honseki_municipality=SHIBUYA,
            honseki_address="神南一丁目1番",
            hittousha_name="山田　一夫",
            **overrides,
        ),
        "change": {
            "reason": "move_in",
            "change_date": "2026-11-15",
            "notified_on": "2026-11-16",
            "previous_address": "東京都新宿区西新宿二丁目1番1号",
            "new_address": "東京都渋谷区神南一丁目2番3号",
        },
    }


def test_a_move_in_notice_completes_the_removed_record(shibuya, ward, clerk):
    resident = ResidentFactory()
    with acting_as(clerk):
        services.move_out(
            [resident],
            planned_date=dt.date(2026, 11, 14),
            notified_on=dt.date(2026, 11, 10),
            destination_municipality=SHIBUYA,
            destination_address="神南一丁目2番3号",
        )
    notice = deliver(shibuya, ward, "move_in_notice", move_in_notice(resident))
    assert (notice.state, notice.resident) == ("applied", resident)
    resident.refresh_from_db()
    assert (
        resident.move_out_confirmed_on,
        resident.move_out_confirmed_address,
        resident.move_in_notice_received_on,
    ) == (
        dt.date(2026, 11, 15),
        "東京都渋谷区神南一丁目2番3号",
        dt.date(2026, 11, 25),
    )


def test_a_move_in_notice_for_a_current_resident_waits(shibuya, ward, clerk):
    resident = ResidentFactory()
    notice = deliver(shibuya, ward, "move_in_notice", move_in_notice(resident))
    # Refused by the authority rule (the 住民票 is current here), shown beside that 住民票 (transfers.authority).
    assert (notice.state, notice.resident, bool(notice.authority_refusal)) == ("waiting", resident, True)
    with pytest.raises(ServiceError):
        inbox.confirm(notice, clerk)
    inbox.dismiss(notice, clerk, note="転出届が未処理。窓口で確認")
    notice.refresh_from_db()
    assert (notice.state, notice.resolution) == ("done", "dismissed")


# --- The spool inbox ------------------------------------------------------------------------------------------------


def test_the_spool_inbox_round_trip(ward, tmp_path: Path):
    cs = Identity.generate(SHIBUYA)
    spool = tmp_path / "cs"
    register(cs, transport="spool", endpoint="", spool_dir=str(spool))
    entry = koseki_person(CODE)
    (spool / "in").mkdir(parents=True)
    raw = sealed(cs, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=CODE)))
    message_id = read_header(raw).message_id
    (spool / "in" / "a.env").write_bytes(raw)
    (spool / "in" / "b.env").write_bytes(b"garbage")
    (spool / "in" / "unrelated.ack").write_bytes(b"for the sending side")

    assert poll_spool_inboxes() == {"accepted": 1, "duplicate": 0, "rejected": 1, "failed": 0}
    assert read_ack((spool / "out" / f"{message_id}.ack").read_bytes(), cs, ward.public, message_id).status == ACCEPTED
    assert sorted(p.name for p in (spool / "in" / "done").iterdir()) == ["a.env"]
    assert sorted(p.name for p in (spool / "in" / "rejected").iterdir()) == ["b.env", "b.env.error.json"]
    assert json.loads((spool / "in" / "rejected" / "b.env.error.json").read_bytes())["error"] == "malformed"
    assert (spool / "in" / "unrelated.ack").exists()
    notice = InboundNotice.objects.get()
    assert (notice.via, notice.state, entry.current_address().municipality_id) == ("spool", "applied", SHIBUYA)

    # The CS delivers the same message again (it never saw our ack): a duplicate ack, applied once.
    (spool / "in" / "again.env").write_bytes(raw)
    assert process_spool_inbox(Partner.objects.get(code=SHIBUYA))["duplicate"] == 1
    assert read_ack((spool / "out" / f"{message_id}.ack").read_bytes(), cs, ward.public, message_id).status == DUPLICATE
    assert InboundNotice.objects.count() == 1
    assert len(jlis_notices()) == 1


def test_a_spool_file_sealed_by_another_partner_is_refused(ward, tmp_path: Path):
    cs = Identity.generate(SHIBUYA)
    register(cs, transport="spool", endpoint="", spool_dir=str(tmp_path / "cs"))
    other = Identity.generate("131148")
    register(other)
    (tmp_path / "cs" / "in").mkdir(parents=True)
    (tmp_path / "cs" / "in" / "x.env").write_bytes(sealed(other, ward, "fuhyo_items", fuhyo_items(person())))
    assert process_spool_inbox(Partner.objects.get(code=SHIBUYA))["rejected"] == 1
    assert InboundNotice.objects.count() == 0
