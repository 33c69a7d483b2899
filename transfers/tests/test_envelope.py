"""Envelopes: what a receiver accepts, and every way it refuses (pure functions, no database)."""

import base64
import datetime as dt
import json

import pytest

from common.juminhyo_codes import juminhyo_code_for
from transfers.acks import ACCEPTED, DUPLICATE, make_ack, read_ack
from transfers.envelope import (
    MAX_ENVELOPE_BYTES,
    EnvelopeRejected,
    Identity,
    new_header,
    open_envelope,
    read_header,
    seal,
)

SHINJUKU, SHIBUYA, NAKANO = "131041", "131130", "131148"
BODY = {"person": {"surname": "葛\U000e0100飾", "given_name": "𠮷子"}, "n": 1}


@pytest.fixture(scope="module")
def keys():
    return {code: Identity.generate(code) for code in (SHINJUKU, SHIBUYA, NAKANO)}


def _lookup(keys, *known):
    return lambda code: keys[code].public if code in known else None


def _sealed(keys, sender=SHINJUKU, receiver=SHIBUYA, body=BODY, header=None):
    header = header or new_header("fuhyo_items", 1, sender, receiver)
    return seal(header, body, keys[sender], keys[receiver].public)


def _tamper(raw: bytes, field: str, change) -> bytes:
    envelope = json.loads(raw)
    envelope[field] = change(envelope[field])
    return json.dumps(envelope).encode()


def _flip_b64(text: str) -> str:
    data = bytearray(base64.b64decode(text))
    data[len(data) // 2] ^= 0x01
    return base64.b64encode(bytes(data)).decode()


def _refusal(raw, keys, me=SHIBUYA, known=(SHINJUKU,), **kwargs) -> str:
    with pytest.raises(EnvelopeRejected) as caught:
        open_envelope(raw, keys[me], _lookup(keys, *known), **kwargs)
    return caught.value.code


def test_round_trip_keeps_names_byte_for_byte(keys):
    opened = open_envelope(_sealed(keys), keys[SHIBUYA], _lookup(keys, SHINJUKU))
    assert opened.body == BODY
    assert opened.body["person"]["surname"].encode() == "葛\U000e0100飾".encode()
    assert opened.header.sender == SHINJUKU
    assert opened.header.kind == "fuhyo_items"


def test_personal_data_is_not_readable_on_the_wire(keys):
    raw = _sealed(keys)
    assert "葛".encode() not in raw
    assert b"surname" not in raw


def test_each_message_has_its_own_key_and_nonce(keys):
    header = new_header("fuhyo_items", 1, SHINJUKU, SHIBUYA)
    first, second = (json.loads(_sealed(keys, header=header)) for _ in range(2))
    assert first["epk"] != second["epk"]
    assert first["ciphertext"] != second["ciphertext"]


def test_unknown_sender_is_refused(keys):
    assert _refusal(_sealed(keys, sender=NAKANO), keys) == EnvelopeRejected.UNKNOWN_SENDER


def test_wrong_receiver_is_refused(keys):
    raw = _sealed(keys, receiver=NAKANO)
    assert _refusal(raw, keys) == EnvelopeRejected.WRONG_RECEIVER


def test_a_message_for_someone_else_cannot_be_opened_even_when_readdressed(keys):
    raw = _tamper(_sealed(keys, receiver=NAKANO), "header", lambda h: {**h, "receiver": SHIBUYA})
    assert _refusal(raw, keys) == EnvelopeRejected.BAD_SIGNATURE


def test_signature_by_another_key_is_refused(keys):
    impostor = Identity(SHINJUKU, Identity.generate(SHINJUKU).sign_key, keys[SHINJUKU].box_key)
    raw = seal(new_header("fuhyo_items", 1, SHINJUKU, SHIBUYA), BODY, impostor, keys[SHIBUYA].public)
    assert _refusal(raw, keys) == EnvelopeRejected.BAD_SIGNATURE


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "epk", "signature"])
def test_tampered_crypto_fields_are_refused(keys, field):
    raw = _tamper(_sealed(keys), field, _flip_b64)
    assert _refusal(raw, keys) in (EnvelopeRejected.BAD_SIGNATURE, EnvelopeRejected.UNDECRYPTABLE)


@pytest.mark.parametrize("item", ["kind", "schema_version", "message_id"])
def test_tampered_header_is_refused(keys, item):
    replacement = {"kind": "jlis_fuhyo", "schema_version": 2, "message_id": "00000000-0000-4000-8000-000000000000"}
    raw = _tamper(_sealed(keys), "header", lambda h: {**h, item: replacement[item]})
    assert _refusal(raw, keys) == EnvelopeRejected.BAD_SIGNATURE


def test_stale_and_future_timestamps_are_refused(keys):
    raw = _sealed(keys)
    created = read_header(raw).created
    assert _refusal(raw, keys, now=created + dt.timedelta(minutes=6)) == EnvelopeRejected.STALE
    assert _refusal(raw, keys, now=created - dt.timedelta(minutes=6)) == EnvelopeRejected.STALE
    opened = open_envelope(raw, keys[SHIBUYA], _lookup(keys, SHINJUKU), now=created + dt.timedelta(minutes=4))
    assert opened.body == BODY


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b'{"v": 2}',
        json.dumps({"v": 1, "header": {"kind": "x"}}).encode(),
        "\udcff".encode("utf-8", "surrogatepass"),
    ],
)
def test_malformed_envelopes_are_refused(keys, raw):
    assert _refusal(raw, keys) == EnvelopeRejected.MALFORMED


def test_missing_crypto_field_is_malformed(keys):
    envelope = json.loads(_sealed(keys))
    del envelope["nonce"]
    assert _refusal(json.dumps(envelope).encode(), keys) == EnvelopeRejected.MALFORMED


def test_oversize_is_refused_unread(keys):
    assert _refusal(b" " * (MAX_ENVELOPE_BYTES + 1), keys) == EnvelopeRejected.TOO_LARGE


def test_refusal_has_a_japanese_message(keys):
    with pytest.raises(EnvelopeRejected) as caught:
        open_envelope(_sealed(keys, sender=NAKANO), keys[SHIBUYA], _lookup(keys, SHINJUKU))
    assert "登録されていません" in caught.value.message
    assert caught.value.header is not None
    assert caught.value.header.sender == NAKANO


def test_seal_refuses_keys_that_do_not_match_the_header(keys):
    with pytest.raises(ValueError, match="do not match"):
        seal(new_header("fuhyo_items", 1, SHIBUYA, SHINJUKU), BODY, keys[SHINJUKU], keys[SHIBUYA].public)


def test_ack_round_trip_and_checks(keys):
    message = read_header(_sealed(keys))
    raw = make_ack(
        message,
        ACCEPTED,
        keys[SHIBUYA],
        keys[SHINJUKU].public,
        symbol={"juminhyo_code": juminhyo_code_for(1), "symbol": "S"},
    )
    ack = read_ack(raw, keys[SHINJUKU], keys[SHIBUYA].public, message.message_id)
    assert (ack.status, ack.in_reply_to, ack.symbol) == (
        ACCEPTED,
        message.message_id,
        {"juminhyo_code": juminhyo_code_for(1), "symbol": "S"},
    )
    duplicate = make_ack(message, DUPLICATE, keys[SHIBUYA], keys[SHINJUKU].public)
    assert read_ack(duplicate, keys[SHINJUKU], keys[SHIBUYA].public, message.message_id).symbol is None
    with pytest.raises(EnvelopeRejected):  # an ack for another message
        read_ack(raw, keys[SHINJUKU], keys[SHIBUYA].public, "00000000-0000-4000-8000-000000000000")
    with pytest.raises(EnvelopeRejected):  # an ack from someone else than the receiver
        read_ack(raw, keys[SHINJUKU], keys[NAKANO].public, message.message_id)


def test_a_notice_is_not_accepted_as_an_ack(keys):
    raw = _sealed(keys, sender=SHIBUYA, receiver=SHINJUKU, body={"in_reply_to": "x", "status": ACCEPTED})
    with pytest.raises(EnvelopeRejected) as caught:
        read_ack(raw, keys[SHINJUKU], keys[SHIBUYA].public, "x")
    assert caught.value.code == EnvelopeRejected.BAD_PAYLOAD
