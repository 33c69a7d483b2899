"""`make run`'s supervisor (devtools/run_all.py): it serves the login page, runs worker and beat on the filesystem
broker, starts a partner instance (its own database, broker, web, worker and beat) and the J-LIS simulator, registers
the two wards and J-LIS with each other, and Ctrl-C stops every process it started.

Everything runs in a temporary folder (WARD_VAR_DIR: SQLite, broker folders, beat's schedule, the heartbeat file, the
partner's var/partner and J-LIS's var/jlis), so that the developer's var/ is never touched.
"""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
READY_TIMEOUT = 150  # seconds to prepare the partner (a first migrate) and start gunicorn, the workers and beat
STOP_TIMEOUT = 40  # run_all's own bound (RUN_ALL_STOP_TIMEOUT, 15 s here) plus margin

pytestmark = [
    pytest.mark.slow,
    pytest.mark.real_clock,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may contain spaces and parentheses
    return fields[0], int(fields[1]), int(fields[19])


def _descendants(root: int) -> dict[int, int]:
    """Every process below `root`, as pid -> start time (so that a reused pid is not mistaken for ours)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            children.setdefault(stat[1], []).append(int(entry.name))
    found, todo = {}, [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            if (stat := _stat(pid)) is not None:
                found[pid] = stat[2]
                todo.append(pid)
    return found


def _running(pid: int, started: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[2] == started and stat[0] not in ("Z", "X")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return ""


@pytest.fixture
def sandbox(tmp_path):
    """Environment for the subprocesses: our settings, with every file they write under tmp_path."""
    var = tmp_path / "var"
    var.mkdir()
    # WARD_VAR_DIR moves the SQLite file, the broker folders (kombu's control folder included), beat's schedule and
    # the heartbeat.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        WARD_VAR_DIR=str(var),
        PYTHONPATH=str(BASE_DIR),
        DJANGO_ALLOW_DEV_SECRET="true",
        DJANGO_DEBUG="false",
        DATABASE_URL=f"sqlite:///{var / 'db.sqlite3'}",
        # Defaults, set explicitly so that a developer's .env (read by settings.py) cannot choose others:
        CELERY_BROKER_URL="filesystem://",
        CELERY_BEAT_SCHEDULE_FILENAME=str(var / "celerybeat-schedule"),
        STATIC_ROOT=str(tmp_path / "static"),
        WEB_CONCURRENCY="1",
        RUN_ALL_STOP_TIMEOUT="15",
        PARTNER_RESIDENTS="20",
        CROSS_WARD_COUNT="4",
    )
    for name in ("PARTNER_DATABASE_URL", "PARTNER_CELERY_BROKER_URL", "PARTNER_LG_CODE", "TRANSFERS_KEY_DIR"):
        env.pop(name, None)
    (tmp_path / "static").mkdir()
    # The login page names the ward, so it needs the municipality table: migrate the temporary database.
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env, check=True, timeout=120
    )
    return env, var


def _partners(database: Path) -> dict[str, str]:
    """code -> endpoint of the partner table of an instance's SQLite database."""
    with sqlite3.connect(database) as db:
        return dict(db.execute("SELECT code, endpoint FROM transfers_partner WHERE is_active"))


def _heartbeat(env: dict[str, str], heartbeat: Path, output) -> None:
    """A task sent from outside through the instance's broker is run by its worker: it writes its heartbeat file."""
    subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import django; django.setup(); from common.tasks import heartbeat; heartbeat.delay()"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        timeout=60,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not heartbeat.exists():
        time.sleep(0.5)
    assert heartbeat.exists(), f"the worker did not run the heartbeat task:\n{output()}"


def test_run_all_serves_both_wards_and_jlis_runs_workers_and_beat_and_stops_on_sigint(sandbox, tmp_path):
    env, var = sandbox
    port = _free_port()
    partner_port, jlis_port = _free_port(), _free_port()
    log_path = tmp_path / "run_all.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "devtools.run_all", "--host", "127.0.0.1", "--port", str(port)]
            + ["--partner-port", str(partner_port), "--jlis-port", str(jlis_port)],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    seen: dict[int, int] = {}

    def output() -> str:
        return log_path.read_text(encoding="utf-8", errors="replace")

    try:
        # 1. The login pages of both wards answer (the partner on "localhost": cookies are per host), J-LIS answers.
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline and "ready: http://" not in output():
            assert proc.poll() is None, f"run_all exited early ({proc.returncode}):\n{output()}"
            time.sleep(0.5)
        assert "ready: http://127.0.0.1:" in output(), f"not ready within {READY_TIMEOUT} s:\n{output()}"
        for url in (f"http://127.0.0.1:{port}/login/", f"http://localhost:{partner_port}/login/"):
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
                assert response.status == 200
                assert "ログイン" in response.read().decode("utf-8")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{jlis_port}/inbound/", timeout=10)  # noqa: S310 - loopback
        assert refused.value.code == 405  # J-LIS takes POSTed envelopes only

        # 2. Web, worker and beat of each ward, and J-LIS, run as direct children of run_all.
        seen = _descendants(proc.pid)
        direct = {pid: _cmdline(pid) for pid in seen if (_stat(pid) or ("", 0, 0))[1] == proc.pid}
        kinds = {
            "web": [pid for pid, cmd in direct.items() if "gunicorn" in cmd],
            "worker": [pid for pid, cmd in direct.items() if "celery" in cmd and " worker" in cmd],
            "beat": [pid for pid, cmd in direct.items() if "celery" in cmd and " beat" in cmd],
            "jlis": [pid for pid, cmd in direct.items() if "run_jlis_simulator" in cmd],
        }
        assert {kind: len(pids) for kind, pids in kinds.items()} == {"web": 2, "worker": 2, "beat": 2, "jlis": 1}, (
            f"{direct}\n{output()}"
        )
        assert all(_running(pid, seen[pid]) for pids in kinds.values() for pid in pids)

        # 3. Each ward knows the other and J-LIS; J-LIS knows both wards; the partner has its own data.
        partner_var = var / "partner"
        assert _partners(var / "db.sqlite3") == {
            "131130": f"http://127.0.0.1:{partner_port}/transfers/inbound/",
            "J-LIS": f"http://127.0.0.1:{jlis_port}/inbound/",
        }
        assert _partners(partner_var / "db.sqlite3") == {
            "131041": f"http://127.0.0.1:{port}/transfers/inbound/",
            "J-LIS": f"http://127.0.0.1:{jlis_port}/inbound/",
        }
        assert {p.stem for p in (var / "jlis" / "partners").glob("*.json")} == {"131041", "131130"}
        assert json.loads((var / "jlis" / "keys" / "public.json").read_text(encoding="utf-8"))["code"] == "J-LIS"
        with sqlite3.connect(partner_var / "db.sqlite3") as db:
            assert db.execute("SELECT count(*) FROM registry_resident").fetchone()[0] >= 20

        # 4. Each worker consumes from its own filesystem broker.
        _heartbeat(env, var / "celery-heartbeat", output)
        partner_env = dict(env, WARD_VAR_DIR=str(partner_var), WARD_LG_CODE="131130")
        partner_env.update(
            DATABASE_URL=f"sqlite:///{partner_var / 'db.sqlite3'}",
            CELERY_BEAT_SCHEDULE_FILENAME=str(partner_var / "celerybeat-schedule"),
        )
        _heartbeat(partner_env, partner_var / "celery-heartbeat", output)
        assert (var / "broker" / "queue").is_dir()
        assert (partner_var / "broker" / "queue").is_dir()
        seen.update(_descendants(proc.pid))

        # 5. Ctrl-C: run_all and everything below it exit within the bound, and run_all says all went well.
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=STOP_TIMEOUT)
        assert proc.returncode == 0, output()
        deadline = time.monotonic() + 5  # reparented grandchildren may need a moment to be reaped
        while time.monotonic() < deadline and any(_running(pid, started) for pid, started in seen.items()):
            time.sleep(0.2)
        left = [f"{pid} {_cmdline(pid)}" for pid, started in seen.items() if _running(pid, started)]
        assert not left, f"still running after run_all exited: {left}\n{output()}"
        assert "ready: http://127.0.0.1:" in output()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for pid, started in seen.items():  # only processes this test started, by pid
            if _running(pid, started):
                os.kill(pid, signal.SIGKILL)


def test_run_all_stops_everything_when_a_child_dies(sandbox, tmp_path):
    """A child that exits on its own (here: gunicorn cannot bind a busy port) stops the others; status non-zero."""
    env, _var = sandbox
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = dict(env, RUN_ALL_STOP_TIMEOUT="15")
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "devtools.run_all", "--host", "127.0.0.1", "--port", str(port), "--no-partner"],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=READY_TIMEOUT + STOP_TIMEOUT,
        )
    assert result.returncode != 0, result.stdout
    assert "exited unexpectedly" in result.stdout
