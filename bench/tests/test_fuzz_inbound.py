"""The helpers of bench/fuzz_inbound.py (the benchmark itself is run by hand; its generator is exercised against the
real endpoint by transfers/tests/test_fuzz_inbound.py)."""

import importlib.util
import json
import math
import random
import sys
from pathlib import Path

_path = Path(__file__).resolve().parent.parent / "fuzz_inbound.py"
_spec = importlib.util.spec_from_file_location("fuzz_inbound", _path)
fuzz_inbound = sys.modules.setdefault("fuzz_inbound", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(fuzz_inbound)


def test_error_code_of_an_answer():
    assert fuzz_inbound.error_code(400, json.dumps({"error": "malformed", "message": "…"}).encode()) == "malformed"
    assert fuzz_inbound.error_code(409, b"signed ack bytes") == "replay"
    assert fuzz_inbound.error_code(500, b"<html>") == ""
    assert fuzz_inbound.error_code(400, b"[1]") == ""


def test_percentile_is_nearest_rank():
    assert fuzz_inbound.percentile(list(range(100, 0, -1)), 99) == 99
    assert fuzz_inbound.percentile([0.5], 99) == 0.5
    assert math.isnan(fuzz_inbound.percentile([], 50))


def test_tally_flags_what_a_kind_should_not_get():
    tally = fuzz_inbound.Tally()
    tally.add("stale", 400, "stale")
    tally.add("replay", 409, "replay")
    tally.add("wrong_key", 500, "")
    assert tally.total == 3
    assert tally.unexpected == ["wrong_key: 500 (no code)"]
    assert tally.per_kind["stale"][400] == 1


def test_draws_follow_the_weights_and_are_reproducible():
    from transfers.envelope import Identity

    ward = Identity.generate(fuzz_inbound.WARD)
    partner = Identity.generate(fuzz_inbound.PARTNER)
    first = fuzz_inbound.Fuzzer(ward.public, partner, random.Random(7))  # noqa: S311
    first.valid.append(first.genuine())
    kinds = [first.draw()[0] for _ in range(400)]
    again = fuzz_inbound.Fuzzer(ward.public, partner, random.Random(7))  # noqa: S311
    again.valid.append(again.genuine())
    assert [again.draw()[0] for _ in range(400)] == kinds
    assert set(kinds) == set(fuzz_inbound.KINDS)
    assert kinds.count("bad_payload") > kinds.count("oversize")


def test_wrong_check_digit_keeps_the_shape_and_breaks_the_digit():
    from common.checkdigits import is_valid_juminhyo_code, is_valid_lg_code, is_valid_partner_code

    rng = random.Random(11)  # noqa: S311
    for _ in range(200):
        code = fuzz_inbound.juminhyo_code(rng)
        wrong = fuzz_inbound.wrong_check_digit(code, rng)
        assert is_valid_juminhyo_code(code)
        assert (len(wrong), wrong[:10], wrong.isdigit()) == (11, code[:10], True)
        assert not is_valid_juminhyo_code(wrong)
        assert not is_valid_lg_code(fuzz_inbound.wrong_check_digit(fuzz_inbound.WARD, rng))
    # the unknown senders are well formed (else the header is malformed, not an unknown sender)
    assert all(is_valid_partner_code(code) for code in fuzz_inbound.STRANGERS)
    assert fuzz_inbound.PARTNER not in fuzz_inbound.STRANGERS
