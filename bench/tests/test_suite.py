"""make bench's report: growth between two sizes, the targets table, and a step that did not run."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import suite  # noqa: E402
from bench.result import Result  # noqa: E402


def _suite(tmp_path) -> suite.Suite:
    args = argparse.Namespace(profile="quick", output=tmp_path, machine_note="test", only="")
    return suite.Suite(args)


def _web(size: int, rate: float, met: bool) -> dict:
    result = Result("web", "窓口", parameters={"residents": size})
    result.add_figure("req/s", rate, "req/s", size)
    result.add_figure("unsized", 1.0, "x")
    result.add_target("p95", "≤ 30 ms", 40.0, "ms", met)
    result.add_check("no errors", True)
    return result.as_dict()


def test_growth_compares_the_same_figure_at_two_sizes(tmp_path):
    run = _suite(tmp_path)
    run.results = [_web(100_000, 120.0, False), _web(1_000_000, 90.0, False)]
    (growth,) = run.growth()
    assert growth["sizes"] == [100_000, 1_000_000]
    assert growth["size_ratio"] == 10
    assert growth["value_ratio"] == 0.75


def test_the_report_lists_targets_growth_and_failures(tmp_path):
    run = _suite(tmp_path)
    run.results = [_web(2_000, 100.0, True), _web(20_000, 80.0, False)]
    run.failures = ["notices-100: 結果なし（終了コード 1、3 秒）"]
    path = run.write(0.0)
    text = path.read_text(encoding="utf-8")
    assert "notices-100: 結果なし" in text
    assert "| 窓口 | p95 | ≤ 30 ms | 40.0 ms | ✓ |" in text
    assert "| 窓口 | p95 | ≤ 30 ms | 40.0 ms | ✗ |" in text
    assert "×0.80" in text
    assert (tmp_path / "latest.json").exists()


def test_a_step_whose_script_fails_is_recorded_and_the_suite_goes_on(tmp_path, monkeypatch):
    run = _suite(tmp_path)
    monkeypatch.setattr(suite, "BENCH_DIR", tmp_path)
    (tmp_path / "broken.py").write_text("raise SystemExit(3)\n")
    assert run.step("broken", "broken.py") is None
    assert len(run.failures) == 1
    assert run.failures[0].startswith("broken: 結果なし（終了コード 3")
