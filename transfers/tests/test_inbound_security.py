"""The receiving end refuses everything but a fresh envelope sealed for us by a registered partner, with a payload
of its schema, delivered once: each refusal a 4xx through the real URL, exactly one audit entry, nothing stored
and nothing changed in the registers."""

import base64
import json
import threading
import uuid
from dataclasses import replace

import pytest
from django.db import connection, connections

from common.juminhyo_codes import juminhyo_code_for
from koseki_fuhyo.models import FuhyoAddress
from transfers import inbound
from transfers.acks import ACCEPTED, DUPLICATE, read_ack
from transfers.envelope import MAX_ENVELOPE_BYTES, Identity, new_header, seal
from transfers.models import InboundNotice, OutboundNotice

from .inbound_support import (
    NAKANO,
    SHIBUYA,
    URL,
    entries_after,
    fuhyo_items,
    koseki_person,
    last_entry_id,
    person,
    post,
    sealed,
    shibuya_fixture,  # noqa: F401 - the `shibuya` fixture
    stale_header,
    ward_fixture,  # noqa: F401 - the `ward` fixture
)

pytestmark = pytest.mark.django_db

CODE = juminhyo_code_for(1)


@pytest.fixture
def in_our_koseki(db):
    """The person of the payloads, in a 戸籍 of this ward, with an address in this ward."""
    return koseki_person(CODE)


def _valid(shibuya, ward, **kw) -> bytes:
    return sealed(shibuya, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=CODE)), **kw)


def _state():
    return (InboundNotice.objects.count(), OutboundNotice.objects.count(), FuhyoAddress.objects.count())


def _refused(client, raw: bytes, status: int, code: str):
    before, mark = _state(), last_entry_id()
    response = post(client, raw)
    assert response.status_code == status, response.content
    answer = json.loads(response.content)
    assert answer["error"] == code
    assert answer["message"]  # for people, in Japanese
    assert entries_after(mark) == [("rejected", "denied", code)]
    assert _state() == before
    return answer


def _flip(text: str) -> str:
    data = bytearray(base64.b64decode(text))
    data[len(data) // 2] ^= 0x01
    return base64.b64encode(bytes(data)).decode()


def _tampered(raw: bytes, field: str) -> bytes:
    envelope = json.loads(raw)
    envelope[field] = _flip(envelope[field])
    return json.dumps(envelope).encode()


def test_a_valid_delivery_is_stored_applied_and_acknowledged(client, shibuya, ward, in_our_koseki):
    mark = last_entry_id()
    raw = _valid(shibuya, ward)
    response = post(client, raw)
    assert response.status_code == 200
    message_id = json.loads(raw)["header"]["message_id"]
    ack = read_ack(response.content, shibuya, ward.public, message_id)
    assert ack.status == ACCEPTED
    notice = InboundNotice.objects.get()
    assert (str(notice.message_id), notice.sender, notice.via, notice.state) == (message_id, SHIBUYA, "http", "applied")
    assert entries_after(mark) == [("received", "done", ""), ("applied", "done", "")]


def test_unknown_sender(client, ward, shibuya):
    stranger = Identity.generate(NAKANO)
    _refused(client, sealed(stranger, ward, "fuhyo_items", fuhyo_items(person())), 403, "unknown_sender")


def test_inactive_partner_is_unknown(client, ward, shibuya):
    from transfers.models import Partner

    Partner.objects.filter(code=SHIBUYA).update(is_active=False)
    _refused(client, _valid(shibuya, ward), 403, "unknown_sender")


def test_bad_signature_of_an_impostor(client, ward, shibuya, in_our_koseki):
    impostor = Identity(SHIBUYA, Identity.generate(SHIBUYA).sign_key, shibuya.box_key)
    _refused(client, _valid(impostor, ward), 403, "bad_signature")


def test_tampered_ciphertext(client, ward, shibuya, in_our_koseki):
    _refused(client, _tampered(_valid(shibuya, ward), "ciphertext"), 403, "bad_signature")


def test_sealed_for_other_keys_cannot_be_opened(client, ward, shibuya, in_our_koseki):
    """Signed by the partner, addressed to our code, but encrypted for another key: undecryptable."""
    other = Identity.generate(ward.code)
    header = new_header("fuhyo_items", 1, SHIBUYA, ward.code)
    raw = seal(header, fuhyo_items(person(juminhyo_code=CODE)), shibuya, other.public)
    _refused(client, raw, 403, "undecryptable")


def test_wrong_receiver(client, ward, shibuya):
    nakano = Identity.generate(NAKANO)
    header = new_header("fuhyo_items", 1, SHIBUYA, NAKANO)
    raw = seal(header, fuhyo_items(person()), shibuya, nakano.public)
    _refused(client, raw, 403, "wrong_receiver")


def test_stale_timestamp(client, ward, shibuya, in_our_koseki):
    header = stale_header("fuhyo_items", SHIBUYA, ward.code, minutes=10)
    _refused(client, _valid(shibuya, ward, header=header), 400, "stale")


def test_malformed_json(client, ward, shibuya):
    _refused(client, b"{not json", 400, "malformed")


def test_oversize(client, ward, shibuya):
    _refused(client, b"{" + b" " * MAX_ENVELOPE_BYTES + b"}", 413, "too_large")


def test_bad_payload_names_the_item(client, ward, shibuya, in_our_koseki):
    payload = fuhyo_items(person(juminhyo_code=CODE, birth_date="1980/05/01"))
    answer = _refused(client, sealed(shibuya, ward, "fuhyo_items", payload), 400, "bad_payload")
    assert "birth_date" in answer["message"]


def test_a_juminhyo_code_with_a_wrong_check_digit_is_refused_in_japanese(client, ward, shibuya, in_our_koseki):
    wrong = "12345678904"  # deliberately invalid: the check digit of 1234567890 is 3
    payload = fuhyo_items(person(juminhyo_code=wrong))
    answer = _refused(client, sealed(shibuya, ward, "fuhyo_items", payload), 400, "bad_payload")
    assert "「person.juminhyo_code」（住民票コード）：住民票コードの検査数字が正しくありません" in answer["message"]
    assert "末尾は 3 のはずです" in answer["message"]
    assert wrong not in answer["message"]  # the message does not repeat the code


def test_a_municipality_code_with_a_wrong_check_digit_is_refused_in_japanese(client, ward, shibuya, in_our_koseki):
    # deliberately invalid: 渋谷区 is 131130
    payload = fuhyo_items(person(juminhyo_code=CODE, address_municipality="131131"))
    answer = _refused(client, sealed(shibuya, ward, "fuhyo_items", payload), 400, "bad_payload")
    assert "地方公共団体コードの検査数字が正しくありません（末尾は 0 のはずです）" in answer["message"]


@pytest.mark.parametrize(("field", "wrong"), [("sender", "131131"), ("receiver", "131040"), ("sender", "999999")])
def test_a_header_code_with_a_wrong_check_digit_is_malformed(client, ward, shibuya, field, wrong):
    """The header's sender and receiver are 地方公共団体コード with their check digit (or J-LIS): anything else is
    refused before any key is looked up (all three codes here are deliberately invalid)."""
    header = replace(new_header("fuhyo_items", 1, SHIBUYA, ward.code), **{field: wrong})
    sender = Identity.generate(wrong) if field == "sender" else shibuya
    receiver = Identity.generate(wrong).public if field == "receiver" else ward.public
    raw = seal(header, fuhyo_items(person(juminhyo_code=CODE)), sender, receiver)
    answer = _refused(client, raw, 400, "malformed")
    assert "検査数字の正しい地方公共団体コード" in answer["message"]


def test_unknown_schema_version(client, ward, shibuya, in_our_koseki):
    header = new_header("fuhyo_items", 99, SHIBUYA, ward.code)
    _refused(client, _valid(shibuya, ward, header=header), 400, "bad_payload")


@pytest.mark.parametrize("kind", ["ack", "jlis_fuhyo"])
def test_kinds_a_ward_never_receives(client, ward, shibuya, kind):
    body = {"in_reply_to": str(uuid.uuid4()), "status": "accepted"} if kind == "ack" else {}
    _refused(client, sealed(shibuya, ward, kind, body), 400, "bad_payload")


def test_replay_is_a_duplicate_applied_once(client, ward, shibuya, in_our_koseki):
    message_id = str(uuid.uuid4())
    assert post(client, _valid(shibuya, ward, message_id=message_id)).status_code == 200
    lines = FuhyoAddress.objects.filter(entry=in_our_koseki).count()
    assert lines == 2  # the new address was recorded
    # The sender seals afresh on a retry: same message id, new timestamp, new key.
    before, mark = _state(), last_entry_id()
    response = post(client, _valid(shibuya, ward, message_id=message_id))
    assert response.status_code == 409
    assert read_ack(response.content, shibuya, ward.public, message_id).status == DUPLICATE
    assert entries_after(mark) == [("rejected", "denied", "replay")]
    assert _state() == before


def test_two_deliveries_at_the_same_moment_store_one_row(client, ward, shibuya, in_our_koseki, monkeypatch):
    """The loser of the race passes the early check and meets the unique message id: 409 duplicate."""
    message_id = str(uuid.uuid4())
    assert post(client, _valid(shibuya, ward, message_id=message_id)).status_code == 200
    real, calls = inbound._already_stored, []

    def first_check_misses(message_id):  # the other delivery commits between the early check and the insert
        calls.append(message_id)
        return False if len(calls) == 1 else real(message_id)

    monkeypatch.setattr(inbound, "_already_stored", first_check_misses)
    before, mark = _state(), last_entry_id()
    response = post(client, _valid(shibuya, ward, message_id=message_id))
    assert response.status_code == 409
    assert read_ack(response.content, shibuya, ward.public, message_id).status == DUPLICATE
    assert entries_after(mark) == [("rejected", "denied", "replay")]
    assert _state() == before


def test_not_post(client, ward):
    mark = last_entry_id()
    response = client.get(URL)
    assert response.status_code == 405
    assert json.loads(response.content)["error"] == "method_not_allowed"
    assert entries_after(mark) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_message_store_and_apply_it_once(ward, shibuya, reference_data):
    """Two workers receive the same message at the same moment (a sender's retry crossing its first attempt): one
    stores and applies it, the other answers 409 duplicate, whichever of them reaches the database first."""
    from transfers.inbound import receive

    entry = koseki_person(CODE)
    message_id = str(uuid.uuid4())
    envelopes = [_valid(shibuya, ward, message_id=message_id) for _ in range(2)]
    start, statuses = threading.Barrier(2), []

    def deliver(raw: bytes) -> None:
        try:
            start.wait(timeout=10)
            statuses.append(receive(raw, via="http").status)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=deliver, args=(raw,)) for raw in envelopes]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(statuses) == [200, 409]
    assert InboundNotice.objects.filter(message_id=message_id).count() == 1
    assert FuhyoAddress.objects.filter(entry=entry).count() == 2
    assert OutboundNotice.objects.filter(kind="jlis_fuhyo").count() == 1
