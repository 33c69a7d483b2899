"""The nightly-batch benchmark writes a chain that verify_audit_chain accepts: it hashes with the chain's own
function, over values that are those the chain reads back from the row."""

import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from audit import chain  # noqa: E402
from audit.models import AuditLogEntry  # noqa: E402
from bench import batch_bench  # noqa: E402

START = dt.datetime(2026, 10, 27, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def test_the_loader_uses_the_chains_hash():
    assert batch_bench.content_hash is chain.content_hash


@pytest.mark.parametrize("k", [1, 2, 3, 51, 97, 1000, 2002, 4001])
def test_the_loader_hashes_an_entry_as_the_chain_reads_it_back(k):
    values = batch_bench.entry_values(k, START, 259_200, 300)
    values["prev_hash"] = "ab" * 32
    assert set(values) == set(chain.HASHED_FIELDS)
    row = {name: value for name, value in values.items() if name != "occurred_at"}
    entry = AuditLogEntry(occurred_at=dt.datetime.fromisoformat(values["occurred_at"]), **row)
    assert batch_bench.content_hash(values) == chain.content_hash(chain._values(entry))


def test_the_mix_has_every_kind_of_entry_the_analysis_looks_for():
    kinds = {
        (v["category"], v["action"], v["outcome"])
        for v in (batch_bench.entry_values(k, START, 259_200, 300) for k in range(1, 4002))
    }
    assert ("access", "login_failed", "denied") in kinds
    assert ("permission", "use", "done") in kinds
    assert ("transmission", "sent", "done") in kinds
    assert ("access", "views.search", "shown") in kinds
    assert any(outcome == "denied" and action.startswith("views.") for _, action, outcome in kinds)


def test_copy_rows_chain_each_lane_and_carry_the_lane():
    heads: dict[int, str] = {}
    lines = batch_bench.copy_lines(1, 20, START, 259_200, 300, heads).splitlines()
    rows = [line.split("\t") for line in lines]
    assert len(rows) == 20
    assert all(len(row) == 17 for row in rows)
    by_lane: dict[str, list[list[str]]] = {}
    for row in rows:
        by_lane.setdefault(row[14], []).append(row)
    assert len(by_lane) == batch_bench.LANES
    for lane_rows in by_lane.values():
        assert lane_rows[0][15] == "0" * 64
        for before, after in zip(lane_rows, lane_rows[1:], strict=False):
            assert after[15] == before[16]
    assert heads[int(rows[-1][14])] == rows[-1][16]
