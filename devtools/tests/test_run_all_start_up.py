"""`make run` ends its start-up with the demo logins — devtools/run_all.py prints the banner after
every child is up (the web port answers, the worker has said "ready.", beat "Starting"), not as soon as the port
answers while worker and beat are still writing their own start-up.

The children are stand-ins (a socket listener, and two scripts that print Celery's ready lines late), so the test
takes seconds; the real processes are exercised by test_run_all.py (slow)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
BANNER = "デモ用アカウント: clerk / madoguchi-demo-2468"

pytestmark = [pytest.mark.real_clock, pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")]

# Runs run_all.main() with the real build_children(), whose children's programs are swapped for stand-ins.
DRIVER = r"""
import os, sys, time
sys.path.insert(0, "devtools")
import run_all

WEB = "import socket, sys, time; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); " \
      "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); print('Listening', flush=True); time.sleep(600)"
LATE = "import sys, time; time.sleep(float(sys.argv[1])); print(sys.argv[2], flush=True); time.sleep(600)"
real = run_all.build_children

def stand_ins(host, port, env=None, prefix="", worker_name="worker"):
    children = real(host, port, env, prefix, worker_name)
    programs = {
        "web": [WEB, str(port)],
        "worker": [LATE, "1.0", "[INFO/MainProcess] worker@test ready."],
        "beat": [LATE, "2.0", "[INFO/MainProcess] beat: Starting..."],
    }
    for child in children:
        child.argv = [sys.executable, "-c", *programs[child.name.removeprefix(prefix)]]
    return children

run_all.build_children = stand_ins
run_all.prepare_directories = lambda: None
run_all.ward_settings = lambda: ("131041", None)
sys.exit(run_all.main(sys.argv[1:]))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_demo_logins_come_last_after_worker_and_beat_are_up(tmp_path):
    banner = tmp_path / "demo-accounts.txt"
    banner.write_text(BANNER + "\n", encoding="utf-8")
    env = dict(os.environ, PYTHONUNBUFFERED="1", RUN_ALL_STOP_TIMEOUT="5")
    argv = [sys.executable, "-c", DRIVER, "--no-partner", "--port", str(_free_port()), "--banner", str(banner)]
    proc = subprocess.Popen(  # noqa: S603
        argv, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if BANNER in line:
                break
        time.sleep(0.5)  # anything printed right after the banner would be caught below
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    output = "\n".join(lines)
    assert BANNER in output, output

    def first(text: str) -> int:
        found = [i for i, line in enumerate(lines) if text in line]
        assert found, f"{text!r} not printed before the logins:\n{output}"
        return found[0]

    logins = first(BANNER)
    assert first("worker@test ready.") < logins  # not printed while the worker was still starting
    assert first("beat: Starting") < logins  # nor beat
    assert first("[run_all] ready: http://") < logins
    assert rest.splitlines()[0].startswith("[run_all] SIGTERM received"), rest  # nothing between logins and stop
    assert proc.returncode == 0
