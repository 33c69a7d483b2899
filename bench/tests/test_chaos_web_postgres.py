"""`make chaos`, the web tier while PostgreSQL restarts (bench/chaos/web.py, scenario B, small): four clerks search,
open 住民票 and record 転居 on a cluster of the harness's own while it is stopped `-m immediate` for 5 s and started
again. Every check of the harness must hold: the outage is answered with the Japanese 503 page only, the tier
recovers without a restart, nothing answered as committed is lost, every page answered has its access-log entry,
the audit chain verifies, and a stale persistent connection is answered with the 503 page too.

It needs PostgreSQL 15's initdb and pg_ctl and the user postgres (we run as root, through runuser); it takes about
a minute and a half. The figures are printed, not asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.chaos import pgcluster

BASE_DIR = Path(__file__).resolve().parent.parent.parent
RUN_TIMEOUT = 280  # seconds, preparing included (pytest's own timeout is 300)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.real_clock,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only"),
    pytest.mark.skipif(not pgcluster.available(), reason="needs initdb/pg_ctl of PostgreSQL 15 and runuser"),
]


def test_the_web_tier_answers_clearly_while_postgresql_restarts_and_loses_nothing(tmp_path):
    out = tmp_path / "chaos-web.json"
    argv = [sys.executable, "bench/chaos/web.py", "--scenario", "b", "--small", "--json-out", str(out)]
    done = subprocess.run(  # noqa: S603 - fixed argv
        argv, cwd=BASE_DIR, capture_output=True, text=True, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL, check=False
    )
    print(done.stdout)  # noqa: T201 - the figures of the run
    assert out.exists(), done.stderr[-6000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    failed = [check for check in result["checks"] if not check["ok"]]
    assert not failed, json.dumps(failed, ensure_ascii=False, indent=1) + done.stderr[-4000:]
    labels = {check["label"] for check in result["checks"]}
    assert any("503 ページ" in label for label in labels)
    assert any("データベースにある" in label for label in labels)
    assert any("アクセスログ" in label for label in labels)
    assert done.returncode == 0, done.stderr[-4000:]
