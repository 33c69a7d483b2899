"""The receiving end under ~300 generated hostile messages (the generator of bench/fuzz_inbound.py, which sends
10,000 to a real server), through the real URL with Django's test client: random bytes, malformed and deeply nested
JSON, bad headers, truncated envelopes, wrong keys, unknown senders, a wrong receiver, stale timestamps, replays,
oversize bodies, flipped bits (also re-signed by the partner), and genuine signatures over payloads that break the
schema. Each gets its 4xx with the expected refusal code, exactly one `rejected` audit entry with that code, and
nothing is stored."""

import contextlib
import importlib.util
import random
import sys
from collections import Counter
from pathlib import Path

import pytest

from transfers.models import InboundNotice, OutboundNotice

from .inbound_support import (
    entries_after,
    last_entry_id,
    post,
    shibuya_fixture,  # noqa: F401 - the `shibuya` fixture
    ward_fixture,  # noqa: F401 - the `ward` fixture
)

pytestmark = pytest.mark.django_db

_path = Path(__file__).resolve().parents[2] / "bench" / "fuzz_inbound.py"
_spec = importlib.util.spec_from_file_location("fuzz_inbound", _path)
fuzz_inbound = sys.modules.setdefault("fuzz_inbound", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(fuzz_inbound)

MESSAGES = 300
VALID = 3


@pytest.fixture
def fuzzer(ward, shibuya, client):
    """The generator, with a few genuine notices delivered (what the replays replay)."""
    fuzzer = fuzz_inbound.Fuzzer(ward.public, shibuya, random.Random(20261125))  # noqa: S311 - reproducible
    for _ in range(VALID):
        raw = fuzzer.genuine()
        assert post(client, raw).status_code == 200
        fuzzer.valid.append(raw)
    assert InboundNotice.objects.count() == VALID
    return fuzzer


def _state() -> tuple[int, int]:
    return InboundNotice.objects.count(), OutboundNotice.objects.count()


def _refused(client, kind: str, raw: bytes) -> tuple[int, str]:
    before, mark = _state(), last_entry_id()
    response = post(client, raw)
    code = fuzz_inbound.error_code(response.status_code, response.content)
    expected = fuzz_inbound.KINDS[kind]
    assert response.status_code in expected.statuses, (kind, response.status_code, response.content[:300])
    assert code in expected.codes, (kind, code)
    assert entries_after(mark) == [("rejected", "denied", code)], kind
    assert _state() == before, kind
    return response.status_code, code


def test_hostile_messages_are_refused_logged_once_and_never_stored(client, fuzzer):
    kinds, statuses = Counter(), Counter()
    for _ in range(MESSAGES):
        kind, raw = fuzzer.draw()
        status, _ = _refused(client, kind, raw)
        kinds[kind] += 1
        statuses[status] += 1
    assert set(kinds) == set(fuzz_inbound.KINDS), f"every kind drawn at least once: {kinds}"
    assert InboundNotice.objects.count() == VALID


@pytest.mark.parametrize("kind", list(fuzz_inbound.KINDS))
def test_each_kind_at_least_once(client, fuzzer, kind):
    """Every kind by name, so that a kind the draw misses (by its weight) is still proven."""
    for _ in range(3):
        _refused(client, kind, fuzzer.make(kind))


def test_deeply_nested_json_is_malformed_not_an_error(client, fuzzer):
    """Regression: `[` × 100,000 made json.loads raise RecursionError, which no handler caught: a 500 with no
    audit entry (the envelope's reader, and the body's, now refuse it as malformed / bad payload)."""
    depth = 100_000
    for raw in (b"[" * depth + b"]" * depth, b'{"v": ' + b"[" * depth + b"]" * depth + b"}"):
        _refused(client, "malformed_json", raw)
    header = fuzzer.header()
    _refused(client, "bad_payload", fuzz_inbound.seal_raw(header, b"[" * depth, fuzzer.partner, fuzzer.ward))


def test_codes_with_a_wrong_check_digit_are_bad_payloads(client, fuzzer):
    """11 digits (or 6) of the right shape whose last digit is not the check digit break the contract: bad_payload,
    with the Japanese message of the item."""
    rng = random.Random(3)  # noqa: S311 - reproducible
    for item, fragment in (
        ("juminhyo_code", "住民票コードの検査数字が正しくありません"),
        ("honseki_municipality", "地方公共団体コードの検査数字が正しくありません"),
        ("address_municipality", "地方公共団体コードの検査数字が正しくありません"),
    ):
        payload = fuzz_inbound.valid_payload(fuzz_inbound.juminhyo_code(rng))
        payload["person"][item] = fuzz_inbound.wrong_check_digit(payload["person"][item], rng)
        before, mark = _state(), last_entry_id()
        response = post(client, fuzzer.genuine(payload))
        assert (response.status_code, response.json()["error"]) == (400, "bad_payload")
        assert fragment in response.json()["message"]
        assert entries_after(mark) == [("rejected", "denied", "bad_payload")]
        assert _state() == before


def test_the_generator_makes_what_it_says():
    """The generator alone (no server): genuine envelopes open, each hostile kind is bytes."""
    from transfers.envelope import Identity, open_envelope

    ward = Identity.generate(fuzz_inbound.WARD)
    partner = Identity.generate(fuzz_inbound.PARTNER)
    fuzzer = fuzz_inbound.Fuzzer(ward.public, partner, random.Random(1))  # noqa: S311
    raw = fuzzer.genuine()
    opened = open_envelope(raw, ward, {partner.code: partner.public}.get)
    assert opened.body["person"]["surname"] == "山田"
    fuzzer.valid.append(raw)
    for kind in fuzz_inbound.KINDS:
        assert isinstance(fuzzer.make(kind), bytes)
    with contextlib.suppress(RuntimeError):
        fuzz_inbound.Fuzzer(ward.public, partner, random.Random(1)).make("replay")  # noqa: S311
