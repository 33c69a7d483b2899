#!/usr/bin/env python3
"""Run the web server, the Celery worker and Celery beat together, for `make run`.

It starts the three processes, prefixes each line of their output with the process name, prints the URL once the web
server accepts connections, and on SIGINT (Ctrl-C) or SIGTERM forwards that signal to its own children, by pid,
waits for them (bounded), SIGKILLs any straggler and exits. When a child dies on its own, the others are stopped and
the exit status is non-zero.

Each child runs in its own session, so that Ctrl-C in the terminal reaches only this supervisor (and make), and each
child gets the signal exactly once: a second SIGINT would turn Celery's warm shutdown into a cold one. On Linux the
children also get SIGTERM if the supervisor itself dies without cleaning up (PR_SET_PDEATHSIG).

Usage: python scripts/run_all.py [--host 127.0.0.1] [--port 8000] [--banner FILE]
Environment: HOST, PORT (defaults for the options), WEB_CONCURRENCY (gunicorn workers, default 2),
RUN_ALL_STOP_TIMEOUT (seconds to wait for the children after the signal, default 20), and the Django settings.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60.0  # seconds for gunicorn to accept connections before we say so (it keeps running)
POLL = 0.2  # seconds between checks of the children


def log(message: str) -> None:
    with _print_lock:
        sys.stdout.write(f"[run_all] {message}\n")
        sys.stdout.flush()


_print_lock = threading.Lock()


class Child:
    """One supervised process and the thread that copies its output, prefixed."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.reader: threading.Thread | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - argv built here from sys.executable and fixed arguments
            self.argv,
            cwd=BASE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # before any reader thread exists, see main()
        )

    def start_reader(self) -> None:
        self.reader = threading.Thread(target=self._copy_output, name=f"out-{self.name}", daemon=True)
        self.reader.start()

    def _copy_output(self) -> None:
        assert self.proc is not None  # noqa: S101 - started before the reader
        assert self.proc.stdout is not None  # noqa: S101
        prefix = f"{self.name:<6}| "
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with _print_lock:
                try:
                    sys.stdout.write(prefix + line + "\n")
                    sys.stdout.flush()
                except (BrokenPipeError, ValueError):
                    pass  # our own stdout went away; keep draining so that the child never blocks on a full pipe
        self.proc.stdout.close()

    @property
    def pid(self) -> int:
        assert self.proc is not None  # noqa: S101
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            try:
                self.proc.send_signal(signum)  # by pid, to this child only
            except ProcessLookupError:
                pass

    def kill_group(self) -> None:
        """SIGKILL the child and whatever it started: its process group, whose id is its pid (own session)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _die_with_parent() -> None:
    """In the child, before exec: receive SIGTERM when the supervisor dies (Linux only; elsewhere a no-op)."""
    if _libc is not None:
        _libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def prepare_directories() -> None:
    """Create the folders the settings point at: the SQLite file's folder, the broker folders, beat's schedule.

    kombu's filesystem transport does not create its folders, and the worker fails without them.
    """
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings  # settings only: no django.setup(), no database connection

    folders = [Path(settings.VAR_DIR), Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent]
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and str(database["NAME"]) != ":memory:":
        folders.append(Path(database["NAME"]).parent)
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options.get(key):
                folders.append(Path(options[key]))
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)


def build_children(host: str, port: int) -> list[Child]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    python = sys.executable
    bind = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
    web = [
        *(python, "-m", "gunicorn", "config.wsgi:application", f"--bind={bind}"),
        *(f"--workers={env.get('WEB_CONCURRENCY', '2')}", "--graceful-timeout=10", "--access-logfile=-"),
        "--no-control-socket",  # gunicorn's default control socket is one per user: two instances would collide
    ]
    # --pool=solo: the task runs in the worker process itself. The filesystem broker is polled, so prefork's extra
    # processes would buy nothing; SQLite takes one writer at a time, so parallel tasks would only wait for its lock;
    # and a solo worker is one process, so the signal we forward by pid reaches everything and a warm shutdown
    # finishes the current task. PostgreSQL/Redis deployments (docker-compose.yml) run prefork instead.
    worker = [
        *(python, "-m", "celery", "--app=config", "worker", "--pool=solo", "--concurrency=1", "--loglevel=INFO"),
        "--hostname=worker@%h",
        "--without-mingle",
        "--without-gossip",  # broadcasts to other workers: there are none, and they poll files
    ]
    beat = [python, "-m", "celery", "--app=config", "beat", "--loglevel=INFO"]
    return [Child("web", web, env), Child("worker", worker, env), Child("beat", beat, env)]


def wait_for_port(host: str, port: int, children: list[Child], stop: threading.Event) -> bool:
    """True once something accepts connections on host:port; False on timeout, stop request or a dead child."""
    target = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host in ("::", "[::]") else host.strip("[]"))  # noqa: S104
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and not stop.is_set():
        if not all(child.alive() for child in children):
            return False
        try:
            with socket.create_connection((target, port), timeout=1):
                return True
        except OSError:
            time.sleep(POLL)
    return False


def stop_children(children: list[Child], signum: int, timeout: float, again: threading.Event) -> bool:
    """Forward `signum` to every live child; wait up to `timeout`; SIGKILL stragglers. True if none needed it."""
    for child in children:
        child.signal(signum)
    started = time.monotonic()
    deadline = started + timeout
    running = [child for child in children if child.alive()]
    while running and time.monotonic() < deadline:
        if again.is_set():  # a second Ctrl-C: forward it too (Celery then shuts down cold, gunicorn at once)
            again.clear()
            for child in running:
                child.signal(signum)
        time.sleep(POLL)
        for child in [child for child in running if not child.alive()]:
            running.remove(child)
            log(f"{child.name} stopped (status {child.proc.returncode}, {time.monotonic() - started:.1f} s)")
    clean = True
    for child in children:
        if child.alive():
            log(f"{child.name} (pid {child.pid}) did not stop within {timeout:.0f} s: SIGKILL")
            child.kill_group()
            clean = False
    for child in children:
        if child.proc is not None:
            try:
                child.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log(f"{child.name} (pid {child.pid}) is still there after SIGKILL")
                clean = False
        if child.reader is not None:
            child.reader.join(timeout=2)
    return clean


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    parser.add_argument("--banner", type=Path, help="a file printed once the web server is ready (demo accounts)")
    args = parser.parse_args(argv)
    stop_timeout = float(os.environ.get("RUN_ALL_STOP_TIMEOUT") or 20)

    try:
        prepare_directories()
    except Exception as exc:  # noqa: BLE001 - any settings error: say it plainly and stop before starting anything
        log(f"cannot read the settings: {exc}")
        return 2

    stop = threading.Event()
    again = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        if stop.is_set():
            again.set()
        received.append(signum)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)

    children = build_children(args.host, args.port)
    # All children are forked before any reader thread starts: preexec_fn is only safe in a single-threaded parent.
    for child in children:
        child.start()
    for child in children:
        child.start_reader()
        log(f"started {child.name} (pid {child.pid})")

    url_host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host  # noqa: S104
    url_host = f"[{url_host}]" if ":" in url_host and not url_host.startswith("[") else url_host
    if wait_for_port(args.host, args.port, children, stop):
        if args.banner and args.banner.exists():
            with _print_lock:
                sys.stdout.write("\n" + args.banner.read_text(encoding="utf-8"))
        log(f"ready: http://{url_host}:{args.port}/  (Ctrl-C で web・worker・beat をすべて停止)")
    elif not stop.is_set() and all(child.alive() for child in children):
        log(f"web is not answering on {args.host}:{args.port} after {READY_TIMEOUT:.0f} s; still waiting")

    died: Child | None = None
    while not stop.is_set():
        died = next((child for child in children if not child.alive()), None)
        if died is not None:
            break
        time.sleep(POLL)

    if died is not None:
        log(f"{died.name} (pid {died.pid}) exited unexpectedly with status {died.proc.returncode}; stopping the rest")
        stop_children(children, signal.SIGTERM, stop_timeout, again)
        return 1

    signum = received[0] if received else signal.SIGTERM
    log(f"{signal.Signals(signum).name} received: stopping web, worker and beat")
    # gunicorn treats SIGHUP as "reload", so a hang-up is forwarded as SIGTERM.
    clean = stop_children(children, signal.SIGTERM if signum == signal.SIGHUP else signum, stop_timeout, again)
    log("stopped" if clean else "stopped, some by SIGKILL")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
