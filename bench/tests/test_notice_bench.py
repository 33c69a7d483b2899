"""The summary helper of bench/notice_bench.py (the benchmark itself is run by hand, not by the test suite)."""

import importlib.util
import math
from pathlib import Path

_path = Path(__file__).resolve().parent.parent / "notice_bench.py"
_spec = importlib.util.spec_from_file_location("notice_bench", _path)
notice_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(notice_bench)


def test_percentiles_are_nearest_rank():
    values = list(range(100, 0, -1))  # 1..100, unsorted
    assert notice_bench.percentile(values, 50) == 50
    assert notice_bench.percentile(values, 95) == 95
    assert notice_bench.percentile(values, 99) == 99
    assert notice_bench.percentile(values, 100) == 100
    assert notice_bench.percentile(values, 0) == 1
    assert notice_bench.percentile([7.5], 99) == 7.5


def test_summary_of_latencies():
    summary = notice_bench.summarize([0.2, 0.1, 0.4, 0.3])
    assert summary == {"count": 4, "mean": 0.25, "p50": 0.2, "p95": 0.4, "p99": 0.4, "max": 0.4}
    empty = notice_bench.summarize([])
    assert empty["count"] == 0
    assert math.isnan(empty["p50"])
