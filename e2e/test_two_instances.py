"""Two instances of this system and the J-LIS simulator, as real processes on loopback (issue 4's acceptance).

`devtools/run_all.py` — what `make run` runs — starts ward A (新宿区 131041) and ward B (渋谷区 131130), each with its
own database (SQLite files here; two scratch PostgreSQL databases, dropped afterwards, when DATABASE_URL names a
PostgreSQL server), its own broker (filesystem folders; Redis database numbers of their own when CELERY_BROKER_URL
names Redis), gunicorn, Celery worker and beat, plus J-LIS; it seeds persons the two share (seed_dummy --cross-ward)
and registers each ward and J-LIS with the other. The steps run inside each instance through its own services
(e2e/two_instances_steps.py); the assertions read each instance's database and J-LIS's state.

a) A 転居 in A of a resident whose 本籍 is in B reaches B, is applied to B's 附票, and B's 附票本人確認情報 reaches
   J-LIS, whose 符号 B stores.
b) B's 附票 differs (another kanji in the 名): the notice waits in B's inbox; B's clerk sends a 本籍照合通知, which
   arrives in A's inbox as a correction task.
c) A 転籍 in A (A is the 本籍地) to B reaches B as a 本籍転属通知 and opens the new 附票 there.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from devtools import instances
from devtools.dummy.cross_ward import cross_ward_people
from devtools.simulators.jlis import read_state

BASE_DIR = Path(settings.BASE_DIR)
A, B = "131041", "131130"
CROSS = 6  # shared persons: 0, 2, 4 live in A with 本籍 in B; 1, 3, 5 live in B with 本籍 in A
START_TIMEOUT = 150  # seconds for run_all to prepare both databases and start everything
DEADLINE = 60  # seconds for the notices of all three scenarios to travel
STEP_TIMEOUT = DEADLINE + 60
STOP_TIMEOUT = 45

pytestmark = [
    pytest.mark.slow,
    pytest.mark.real_clock,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only"),
]


@pytest.fixture
def databases(tmp_path):
    """(URL of A's database, URL of B's): SQLite files, or two scratch databases on the PostgreSQL server of
    DATABASE_URL, dropped afterwards."""
    main = os.environ.get("DATABASE_URL", "")
    if instances.is_postgres(main):
        pytest.importorskip("psycopg", reason="psycopg is needed for PostgreSQL")
    with instances.scratch_databases(("a", "b"), tmp_path, main) as urls:
        yield tuple(urls)


@pytest.fixture
def brokers():
    """(A's broker, B's): the filesystem transport (each in its own var dir), or when CELERY_BROKER_URL names Redis,
    two database numbers of that server other than the one the test run itself uses (1 and 2 unless taken),
    emptied before and after."""
    main = os.environ.get("CELERY_BROKER_URL", "")
    if not main.startswith("redis://"):
        yield "filesystem://", "filesystem://"
        return
    pytest.importorskip("redis", reason="the redis client is needed for a Redis broker")
    with instances.redis_databases(main, 2) as urls:
        yield tuple(urls)


@pytest.fixture
def two_wards(tmp_path, databases, brokers):
    """run_all with both wards and J-LIS; yields (env of A, env of B, var dir, output reader); stops it by pid."""
    var = tmp_path / "var"
    var.mkdir()
    (tmp_path / "static").mkdir()
    ports = {"port": instances.free_port(), "partner": instances.free_port(), "jlis": instances.free_port()}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "PARTNER_", "TRANSFERS_"))}
    base.pop("DATABASE_URL", None)
    base.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_ALLOW_DEV_SECRET="true",  # noqa: S106 - a flag, not a secret
        DJANGO_DEBUG="false",
        PYTHONPATH=str(BASE_DIR),
        STATIC_ROOT=str(tmp_path / "static"),
        WEB_CONCURRENCY="1",
        RUN_ALL_STOP_TIMEOUT="15",
        # quick retries: a first attempt may meet a partner whose web server is still starting
        TRANSFERS_BACKOFF_BASE="0.5",
        TRANSFERS_BACKOFF_MAX="2",
        TRANSFERS_SWEEP_INTERVAL="1",
    )
    env_a = dict(
        base,
        WARD_LG_CODE=A,
        WARD_VAR_DIR=str(var),
        DATABASE_URL=databases[0],
        CELERY_BROKER_URL=brokers[0],
        CELERY_BEAT_SCHEDULE_FILENAME=str(var / "celerybeat-schedule"),
        TRANSFERS_KEY_DIR=str(var / "keys"),
    )
    run_env = dict(
        env_a,
        PARTNER_LG_CODE=B,
        PARTNER_DATABASE_URL=databases[1],
        PARTNER_CELERY_BROKER_URL=brokers[1],
        PARTNER_RESIDENTS="5",
        CROSS_WARD_COUNT=str(CROSS),
    )
    partner_var = var / "partner"
    env_b = dict(
        base,
        WARD_LG_CODE=B,
        WARD_VAR_DIR=str(partner_var),
        DATABASE_URL=databases[1],
        CELERY_BROKER_URL=brokers[1],
        CELERY_BEAT_SCHEDULE_FILENAME=str(partner_var / "celerybeat-schedule"),
        TRANSFERS_KEY_DIR=str(partner_var / "keys"),
    )
    log_path = tmp_path / "run_all.log"

    def output() -> str:
        return log_path.read_text(encoding="utf-8", errors="replace")

    argv = [sys.executable, "-m", "devtools.run_all", "--host", "127.0.0.1", "--port", str(ports["port"])]
    argv += ["--partner-port", str(ports["partner"]), "--jlis-port", str(ports["jlis"])]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603
            argv, cwd=BASE_DIR, env=run_env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "ready: http://" not in output():
            assert proc.poll() is None, f"run_all exited early ({proc.returncode}):\n{output()}"
            assert time.monotonic() < deadline, f"not ready within {START_TIMEOUT} s:\n{output()}"
            time.sleep(0.5)
        yield env_a, env_b, var, output
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=STOP_TIMEOUT)
        assert proc.returncode == 0, f"run_all did not stop cleanly:\n{output()[-5000:]}"
    finally:
        if proc.poll() is None:  # only the supervisor we started; its children get SIGTERM when it dies
            proc.kill()
            proc.wait(timeout=10)


def step(env: dict[str, str], code: str, output=None) -> dict:
    """Run `code` (a call into e2e.two_instances_steps) in the instance of `env`; its E2E-RESULT as a dict."""
    context = f"\n--- run_all ---\n{output()[-8000:]}" if output else ""
    return instances.shell_step(env, "e2e.two_instances_steps", code, timeout=STEP_TIMEOUT, context=context)


def test_notices_travel_between_two_wards_and_jlis(two_wards):
    env_a, env_b, var, output = two_wards
    people = cross_ward_people(A, B, CROSS, seed=0)
    moved, mismatched, transferred = people[0], people[2], people[1]
    assert (moved.lives_in, mismatched.lives_in, transferred.honseki_in) == (A, A, A)
    other_kanji = ("齋" if mismatched.given_name[0] != "齋" else "斎") + mismatched.given_name[1:]

    # Set-up in B (its 附票 disagrees with A's 住民票 for one person), then the clerk's work in A.
    step(env_b, f"alter_given_name({mismatched.juminhyo_code!r}, {other_kanji!r})", output)
    moves = {moved.juminhyo_code: "西新宿二丁目8番1号", mismatched.juminhyo_code: "西新宿二丁目8番2号"}
    transfers = {transferred.juminhyo_code: [B, "神南一丁目5番"]}
    step(env_a, f"act({moves!r}, {transfers!r})", output)

    # B: a) applied and 符号 stored, b) waiting, c) new 附票 opened.
    conditions = {
        moved.juminhyo_code: "applied_with_symbol",
        mismatched.juminhyo_code: "waiting",
        transferred.juminhyo_code: "transferred_in",
    }
    in_b = step(env_b, f"wait({conditions!r}, {DEADLINE})", output)
    assert all(in_b["met"].values()), json.dumps(in_b, ensure_ascii=False, indent=1) + output()[-8000:]

    # a) B's 附票 follows A's 住民票; B's J-LIS notice was acknowledged with a 符号 B stored.
    person = in_b["persons"][moved.juminhyo_code]
    assert [(n["kind"], n["state"], n["sender"]) for n in person["inbound"]] == [("fuhyo_items", "applied", A)]
    assert (person["entry"]["address_municipality"], person["entry"]["address"]) == (A, "西新宿二丁目8番1号")
    assert person["symbol"] is True
    assert {(n["kind"], n["receiver"], n["state"]) for n in in_b["outbound"]} >= {
        ("jlis_fuhyo", "J-LIS", "acknowledged")
    }
    jlis = read_state(var / "jlis" / "state.sqlite3")
    assert any(r["sender"] == B and r["juminhyo_code"] == moved.juminhyo_code for r in jlis["received"])
    assert moved.juminhyo_code in {row["juminhyo_code"] for row in jlis["symbols"]}

    # b) The mismatch waits in B with the difference shown; B's clerk answers with a 本籍照合通知.
    (waiting,) = in_b["persons"][mismatched.juminhyo_code]["inbound"]
    assert (waiting["kind"], waiting["state"], waiting["sender"]) == ("fuhyo_items", "waiting", A)
    assert "given_name" in {d["item"] for d in waiting["differences"]}
    step(env_b, f"send_check({mismatched.juminhyo_code!r})", output)

    # c) The 本籍転属通知 opened the new 附票 in B, at the person's current address in B.
    person = in_b["persons"][transferred.juminhyo_code]
    assert ("honseki_transfer", A) in {(n["kind"], n["sender"]) for n in person["inbound"]}
    assert person["entry"]["honseki_address"] == "神南一丁目5番"
    assert (person["entry"]["address_municipality"], person["entry"]["address"]) == (B, transferred.address)

    # A: the 本籍照合通知 waits as a correction task; A's own notices were all acknowledged.
    in_a = step(env_a, f"wait({ {mismatched.juminhyo_code: 'check_received'}!r}, {DEADLINE})", output)
    assert all(in_a["met"].values()), json.dumps(in_a, ensure_ascii=False, indent=1) + output()[-8000:]
    (check,) = [n for n in in_a["persons"][mismatched.juminhyo_code]["inbound"] if n["kind"] == "honseki_check"]
    assert (check["state"], check["sender"]) == ("waiting", B)
    sent = {(n["kind"], n["receiver"], n["state"]) for n in in_a["outbound"]}
    assert {("fuhyo_items", B, "acknowledged"), ("honseki_transfer", B, "acknowledged")} <= sent
