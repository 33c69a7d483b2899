"""Instances of this system as real processes on loopback, for the end-to-end tests and the notice benchmark.

What e2e/test_two_instances.py (through devtools/run_all.py), e2e/test_delivery_faults.py and bench/notice_bench.py
share:

- `scratch_databases`: SQLite files, or scratch databases on the PostgreSQL server a URL names (dropped afterwards);
- `redis_databases`: Redis database numbers of their own on the server a broker URL names (emptied before and after);
- `clean_env` / `instance_env`: the environment of one instance (its code, var dir, database, broker, keys),
  without anything of the calling process's Django, Celery or transfers settings;
- `prepare_pair`: prepare both instances (`manage.py prepare_instance`: migrate, seed the persons they share,
  generate and export keys) and register each with the other over HTTP (`register_partner`), as run_all does;
- `Process`: one process we started (gunicorn, Celery worker or beat), in a session of its own, output to a file,
  signalled by its pid (or its own process group, whose id is that pid) and stopped with a bounded wait;
- `shell_step`: run a function of a steps module inside an instance (`manage.py shell -c`) and read its one
  `E2E-RESULT <json>` line.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
PREFIX = "E2E-RESULT "
INBOUND_PATH = "/transfers/inbound/"
PREPARE_TIMEOUT = 300.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_postgres(url: str | None) -> bool:
    return bool(url) and url.startswith(("postgres://", "postgresql://"))


@contextlib.contextmanager
def scratch_databases(
    labels: Sequence[str], folder: Path, server_url: str | None = None, prefix: str = "e2e"
) -> Iterator[list[str]]:
    """One database URL per label: SQLite files in `folder`, or, when `server_url` names PostgreSQL, scratch
    databases created on that server and dropped (WITH FORCE) afterwards."""
    if not is_postgres(server_url):
        yield [f"sqlite:///{folder / f'{label}.sqlite3'}" for label in labels]
        return
    import psycopg

    parts = urlsplit(server_url)
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    names = [f"{prefix}_{label}_{uuid.uuid4().hex[:12]}" for label in labels]
    created: list[str] = []
    try:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            for name in names:
                conn.execute(f'CREATE DATABASE "{name}"')
                created.append(name)
        yield [urlunsplit(parts._replace(path=f"/{name}")) for name in names]
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            for name in created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def redis_databases(server_url: str, count: int, prefer: Sequence[int] = ()) -> Iterator[list[str]]:
    """`count` broker URLs on the Redis server of `server_url`, each on a database number of its own: the
    `prefer`red numbers first, then 1..15, never the number `server_url` itself uses. Emptied before and after
    (only those numbers)."""
    import redis

    parts = urlsplit(server_url)
    taken = parts.path.strip("/") or "0"
    candidates = [*prefer, *range(1, 16)]
    numbers: list[int] = []
    for n in candidates:
        if str(n) != taken and n not in numbers:
            numbers.append(n)
        if len(numbers) == count:
            break
    urls = [urlunsplit(parts._replace(path=f"/{n}")) for n in numbers]
    for url in urls:
        redis.Redis.from_url(url).flushdb()
    try:
        yield urls
    finally:
        for url in urls:
            redis.Redis.from_url(url).flushdb()


def clean_env(**overrides: str) -> dict[str, str]:
    """The environment without the caller's Django, Celery, partner and transfers settings, plus `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "PARTNER_", "TRANSFERS_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_ALLOW_DEV_SECRET="true",  # noqa: S106 - a flag, not a secret
        DJANGO_DEBUG="false",
        PYTHONPATH=str(BASE_DIR),
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def instance_env(base: dict[str, str], code: str, var: Path, database_url: str, broker_url: str) -> dict[str, str]:
    """One instance's settings: ward code, var dir, database, broker, beat schedule and keys of its own."""
    var.mkdir(parents=True, exist_ok=True)
    return dict(
        base,
        WARD_LG_CODE=code,
        WARD_VAR_DIR=str(var),
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        CELERY_BEAT_SCHEDULE_FILENAME=str(var / "celerybeat-schedule"),
        TRANSFERS_KEY_DIR=str(var / "keys"),
        TRANSFERS_SIGN_KEY="",
        TRANSFERS_BOX_KEY="",
    )


def shell(env: dict[str, str], script: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", "shell", "--no-imports", "-v", "0", "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def parse_result(stdout: str) -> dict | None:
    lines = [line for line in stdout.splitlines() if line.startswith(PREFIX)]
    return json.loads(lines[-1].removeprefix(PREFIX)) if lines else None


def shell_step(env: dict[str, str], module: str, code: str, timeout: float = 120.0, context: str = "") -> dict:
    """Run `code` (calls into `module`, e.g. e2e.fault_steps) inside the instance of `env`; its E2E-RESULT."""
    result = shell(env, f"from {module} import *\n{code}", timeout)
    detail = f"{code}\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}{context}"
    assert result.returncode == 0, detail  # noqa: S101 - a test helper
    value = parse_result(result.stdout)
    assert value is not None, detail  # noqa: S101
    return value


# --- Preparing two instances that know each other ----------------------------------------------------------------


def _parallel(steps: list[tuple[dict[str, str], list[str]]], what: str) -> None:
    """Run one management command (argv after manage.py) per instance, at the same time; raise if any failed."""
    procs = []
    for env, argv in steps:
        procs.append(
            subprocess.Popen(  # noqa: S603 - fixed argv
                [sys.executable, "manage.py", *argv],
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    failures = []
    for (env, _), proc in zip(steps, procs, strict=True):
        try:
            output, _ = proc.communicate(timeout=PREPARE_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
        if proc.returncode != 0:
            failures.append(f"{what} of {env['WARD_LG_CODE']} failed ({proc.returncode}):\n{output[-6000:]}")
    if failures:
        raise RuntimeError("\n".join(failures))


def prepare_pair(env_a: dict[str, str], env_b: dict[str, str], port_a: int, port_b: int, cross_count: int) -> None:
    """Migrate both instances, seed `cross_count` shared persons (half live in the lower code with their 本籍 in
    the other), generate and exchange keys, and register each as the other's HTTP partner on loopback."""
    code_a, code_b = env_a["WARD_LG_CODE"], env_b["WARD_LG_CODE"]
    key_a = Path(env_a["WARD_VAR_DIR"]) / "public-key.json"
    key_b = Path(env_b["WARD_VAR_DIR"]) / "public-key.json"

    def prepare(code: str, partner: str, key: Path) -> list[str]:
        argv = ["prepare_instance", "--public-key", str(key), "--key-name", code]
        return argv + (["--cross-ward", partner, "--cross-ward-count", str(cross_count)] if cross_count else [])

    _parallel([(env_a, prepare(code_a, code_b, key_a)), (env_b, prepare(code_b, code_a, key_b))], "prepare")

    def register(doc: Path, port: int) -> list[str]:
        return ["register_partner", str(doc), "--transport=http", f"--endpoint=http://127.0.0.1:{port}{INBOUND_PATH}"]

    _parallel([(env_a, register(key_b, port_b)), (env_b, register(key_a, port_a))], "register")


# --- Processes ------------------------------------------------------------------------------------------------------


class Process:
    """One process we started, in its own session (its process group id is its pid), output to `log`."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - argv built from sys.executable and fixed arguments
                self.argv,
                cwd=BASE_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None  # noqa: S101
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal_group(self, signum: int) -> None:
        """Signal the process and the children it forked (gunicorn's and prefork's workers): its own group."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL at once, with whatever it forked; wait for it."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """SIGTERM (to the process itself, by pid), a bounded wait, then SIGKILL of its group. True if it stopped
        on SIGTERM. Safe to call twice."""
        if self.proc is None:
            return True
        if self.proc.poll() is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)  # stragglers of a dead parent
            return True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGCONT)  # a stopped process cannot handle SIGTERM
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
            clean = True
        except subprocess.TimeoutExpired:
            clean = False
        self.kill()
        return clean

    def output(self, tail: int = 6000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-tail:]
        except FileNotFoundError:
            return ""


def gunicorn(
    env: dict[str, str],
    port: int,
    log: Path,
    workers: int = 1,
    threads: int = 1,
    name: str = "web",
    app: str = "config.wsgi:application",
) -> Process:
    argv = [sys.executable, "-m", "gunicorn", app, f"--bind=127.0.0.1:{port}"]
    argv += [f"--workers={workers}", f"--threads={threads}", "--timeout=120", "--graceful-timeout=5"]
    argv += ["--no-control-socket"]
    return Process(name, argv, env, log)


def celery_worker(
    env: dict[str, str], log: Path, name: str = "worker", pool: str = "solo", concurrency: int = 1
) -> Process:
    argv = [sys.executable, "-m", "celery", "--app=config", "worker", f"--pool={pool}", f"--concurrency={concurrency}"]
    argv += ["--loglevel=INFO", f"--hostname={name}-{uuid.uuid4().hex[:6]}@%h", "--without-mingle", "--without-gossip"]
    return Process(name, argv, env, log)


def celery_beat(env: dict[str, str], log: Path, name: str = "beat") -> Process:
    return Process(name, [sys.executable, "-m", "celery", "--app=config", "beat", "--loglevel=INFO"], env, log)


def wait_for_port(port: int, timeout: float, process: Process | None = None) -> float:
    """Wait until something accepts connections on 127.0.0.1:port; returns time.time() of that moment."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return time.time()
        except OSError:
            if process is not None and not process.alive():
                raise RuntimeError(f"{process.name} exited ({process.proc.returncode}):\n{process.output()}") from None
            if time.monotonic() > deadline:
                detail = process.output() if process else ""
                raise TimeoutError(f"nothing listens on port {port} after {timeout:.0f} s\n{detail}") from None
            time.sleep(0.2)


@contextlib.contextmanager
def running(*processes: Process) -> Iterator[tuple[Process, ...]]:
    """Start the processes; stop them (by pid, bounded) on the way out, whatever happens."""
    started: list[Process] = []
    try:
        for process in processes:
            started.append(process.start())
        yield processes
    finally:
        for process in reversed(started):
            process.stop()
