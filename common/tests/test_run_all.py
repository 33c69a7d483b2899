"""`make run`'s supervisor (scripts/run_all.py): it serves the login page, runs worker and beat on the filesystem
broker, and Ctrl-C stops every process it started.

Everything runs in a temporary folder (WARD_VAR_DIR: SQLite, broker folders, beat's schedule, the heartbeat file), so
that the developer's var/ is never touched.
"""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
READY_TIMEOUT = 60  # seconds for gunicorn, the worker and beat to start
STOP_TIMEOUT = 40  # run_all's own bound (RUN_ALL_STOP_TIMEOUT, 15 s here) plus margin

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]


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
    # WARD_VAR_DIR moves the SQLite file, the broker folders, beat's schedule and the heartbeat. The module only adds
    # kombu's control folder (exchange tables), which otherwise lands in the working directory, i.e. the repository;
    # it is a no-op once settings.py sets it.
    (tmp_path / "run_all_test_settings.py").write_text(
        textwrap.dedent(
            """
            from config.settings import *  # noqa: F403

            if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
                CELERY_BROKER_TRANSPORT_OPTIONS.setdefault("control_folder", str(BROKER_DIR / "control"))  # noqa: F405
            """
        ),
        encoding="utf-8",
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="run_all_test_settings",
        WARD_VAR_DIR=str(var),
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(BASE_DIR)]),
        DJANGO_ALLOW_DEV_SECRET="true",
        DJANGO_DEBUG="false",
        DATABASE_URL=f"sqlite:///{var / 'db.sqlite3'}",
        # Defaults, set explicitly so that a developer's .env (read by settings.py) cannot choose others:
        CELERY_BROKER_URL="filesystem://",
        CELERY_BEAT_SCHEDULE_FILENAME=str(var / "celerybeat-schedule"),
        STATIC_ROOT=str(tmp_path / "static"),
        WEB_CONCURRENCY="1",
        RUN_ALL_STOP_TIMEOUT="15",
    )
    (tmp_path / "static").mkdir()
    # The login page names the ward, so it needs the municipality table: migrate the temporary database.
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env, check=True, timeout=120
    )
    return env, var


def test_run_all_serves_login_runs_worker_and_beat_and_stops_on_sigint(sandbox, tmp_path):
    env, var = sandbox
    port = _free_port()
    log_path = tmp_path / "run_all.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "scripts/run_all.py", "--host", "127.0.0.1", "--port", str(port)],
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
        # 1. The login page answers.
        deadline = time.monotonic() + READY_TIMEOUT
        body = None
        while time.monotonic() < deadline and body is None:
            assert proc.poll() is None, f"run_all exited early ({proc.returncode}):\n{output()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as response:  # noqa: S310
                    assert response.status == 200
                    body = response.read().decode("utf-8")
            except OSError:
                time.sleep(0.5)
        assert body is not None, f"no answer on /login/ within {READY_TIMEOUT} s:\n{output()}"
        assert "ログイン" in body

        # 2. Worker and beat run (and gunicorn), as direct children of run_all.
        seen = _descendants(proc.pid)
        direct = {pid: _cmdline(pid) for pid in seen if (_stat(pid) or ("", 0, 0))[1] == proc.pid}
        kinds = {
            "web": [pid for pid, cmd in direct.items() if "gunicorn" in cmd],
            "worker": [pid for pid, cmd in direct.items() if "celery" in cmd and " worker" in cmd],
            "beat": [pid for pid, cmd in direct.items() if "celery" in cmd and " beat" in cmd],
        }
        assert all(len(pids) == 1 for pids in kinds.values()), f"{direct}\n{output()}"
        assert all(_running(pid, seen[pid]) for pids in kinds.values() for pid in pids)

        # 3. The worker consumes from the filesystem broker: a task sent from outside writes its heartbeat file.
        subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from common.tasks import heartbeat; heartbeat.delay()",
            ],
            cwd=BASE_DIR,
            env=env,
            check=True,
            timeout=60,
        )
        heartbeat = var / "celery-heartbeat"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not heartbeat.exists():
            time.sleep(0.5)
        assert heartbeat.exists(), f"the worker did not run the heartbeat task:\n{output()}"
        assert (var / "broker" / "queue").is_dir()
        seen.update(_descendants(proc.pid))

        # 4. Ctrl-C: run_all and everything below it exit within the bound, and run_all says all went well.
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
            [sys.executable, "scripts/run_all.py", "--host", "127.0.0.1", "--port", str(port)],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=READY_TIMEOUT + STOP_TIMEOUT,
        )
    assert result.returncode != 0, result.stdout
    assert "exited unexpectedly" in result.stdout
