#!/usr/bin/env python3
"""Run the web server, the Celery worker and Celery beat together, for `make run` — with a partner instance and J-LIS.

Besides this ward (WARD_LG_CODE, default 新宿区 131041) it runs, unless --no-partner is given:
- a second instance of this very system as the partner municipality (PARTNER_LG_CODE, default 渋谷区 131130) with its
  own SQLite database, var dir (<VAR_DIR>/partner/), keys and filesystem broker, its own gunicorn (--partner-port,
  default port + 1), Celery worker and beat (PARTNER_DATABASE_URL / PARTNER_CELERY_BROKER_URL choose others);
- the simulated J-LIS (manage.py run_jlis_simulator, --jlis-port, default port + 2, state in <VAR_DIR>/jlis/).
Before starting them it prepares both instances (`manage.py prepare_instance`): migrate, seed the partner when empty
(PARTNER_RESIDENTS, default 300), add the persons the two share (seed_dummy --cross-ward, CROSS_WARD_COUNT, default
20), demo accounts for the partner, `generate_ward_keys --if-missing`; then registers each ward and J-LIS as partners
of the other (`register_partner`, HTTP on loopback); J-LIS accepts the two wards' exported public keys.

It starts the processes, prefixes each line of their output with the process name, and once every child is up (the
web servers and J-LIS accept connections, each worker has said "ready.", each beat "Starting") prints the URLs and
then the demo logins (--banner), last, so that they are on screen when start-up ends (the tasks beat sends every few
seconds log at DEBUG: config/celery_logging.py). On SIGINT (Ctrl-C) or SIGTERM it forwards that signal to its own
children, by pid, waits for them (bounded), SIGKILLs any straggler and exits. When a child dies on its own, the
others are stopped and the exit status is non-zero.

Each child runs in its own session, so that Ctrl-C in the terminal reaches only this supervisor (and make), and each
child gets the signal exactly once: a second SIGINT would turn Celery's warm shutdown into a cold one. On Linux the
children also get SIGTERM if the supervisor itself dies without cleaning up (PR_SET_PDEATHSIG).

Usage: python -m devtools.run_all [--host 127.0.0.1] [--port 8000] [--partner-port P] [--jlis-port J] [--no-partner]
                                  [--banner FILE]
Environment: HOST, PORT (defaults for the options), WEB_CONCURRENCY (gunicorn workers, default 2),
RUN_ALL_STOP_TIMEOUT (seconds to wait for the children after the signal, default 20), the partner's variables above,
and the Django settings.

Why not honcho (PyPI `honcho`, 2.0.0, the maintained Procfile runner; considered for issue 14, item 9): its
Manager does stop everything when one process exits, but it loses what this supervisor is for.
- Stop by pid: honcho forks one multiprocessing helper per command, which runs the command through `sh -c`, so the
  programs are grandchildren behind a helper that ignores SIGINT/SIGTERM; it then signals each command's whole
  process group (os.killpg), so gunicorn's workers get the signal twice (directly and from their master). Here the
  children are the programs themselves, each signalled once, by pid (devtools/tests/test_run_all.py checks that web,
  worker, beat and J-LIS are direct children and that nothing is left after Ctrl-C).
- The signal: honcho always sends SIGTERM and exits 130/143 on Ctrl-C; here the received signal is forwarded (SIGHUP
  as SIGTERM) and a clean stop exits 0, a stop that needed SIGKILL 1.
- The bound: honcho SIGKILLs after a fixed 5 s (a module constant, KILL_WAIT), which cuts a Celery warm shutdown
  short; here RUN_ALL_STOP_TIMEOUT (default 20 s) applies.
- Dying with the supervisor: honcho has no hook for PR_SET_PDEATHSIG, and its helpers would keep the programs alive
  if the supervisor were killed.
- The preparation (migrate, seed, keys, registration) and the "ready" banner once the ports answer would sit around
  honcho's blocking loop() anyway.
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
PREPARE_TIMEOUT = 300.0  # seconds for one instance's preparation (a first migrate of the partner's database)
PARTNER_CODE = "131130"  # 渋谷区
PARTNER_RESIDENTS = 300
CROSS_WARD_COUNT = 20
PARTNER_SEED = 2  # not the ward's seed (1): the two instances must not draw the same 住民票コード
INBOUND_PATH = "/transfers/inbound/"
JLIS_PATH = "/inbound/"
POLL = 0.2  # seconds between checks of the children
WORKER_READY = " ready."  # Celery's worker logs "<hostname> ready." once it consumes
BEAT_READY = "beat: Starting"  # Celery beat logs "beat: Starting..." before its first tick


def log(message: str) -> None:
    with _print_lock:
        sys.stdout.write(f"[run_all] {message}\n")
        sys.stdout.flush()


_print_lock = threading.Lock()


class Child:
    """One supervised process and the thread that copies its output, prefixed."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], ready_marker: str | None = None) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.reader: threading.Thread | None = None
        # A child without a port is up once this text appears in its output (set when seen).
        self.ready_marker = ready_marker
        self.ready = threading.Event()

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
        prefix = f"{self.name:<8}| "
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            if self.ready_marker and self.ready_marker in line:
                self.ready.set()
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


class Instance:
    """One instance of this system: its code, environment (settings), var dir and web port."""

    def __init__(self, label: str, code: str, env: dict[str, str], var: Path, port: int, url_host: str) -> None:
        self.label = label
        self.code = code
        self.env = env
        self.var = var
        self.port = port
        self.url = f"http://{url_host}:{port}/"
        self.public_key = var / "public-key.json"


def ward_settings() -> tuple[str, Path]:
    """(WARD_LG_CODE, VAR_DIR) of this ward, from the settings (no django.setup())."""
    from django.conf import settings

    return settings.WARD_LG_CODE, Path(settings.VAR_DIR)


def partner_env(var: Path, code: str) -> dict[str, str]:
    """The partner's settings: everything of its own, whatever the ward's environment or .env say (the explicit
    variables win over .env, which settings.py reads without overriding)."""
    env = dict(os.environ)
    env.update(
        WARD_LG_CODE=code,
        WARD_VAR_DIR=str(var),
        DATABASE_URL=os.environ.get("PARTNER_DATABASE_URL") or f"sqlite:///{var / 'db.sqlite3'}",
        CELERY_BROKER_URL=os.environ.get("PARTNER_CELERY_BROKER_URL") or "filesystem://",
        CELERY_BEAT_SCHEDULE_FILENAME=str(var / "celerybeat-schedule"),
        TRANSFERS_KEY_DIR=str(var / "keys"),
        TRANSFERS_SIGN_KEY="",
        TRANSFERS_BOX_KEY="",
    )
    return env


def _manage(instance: Instance, argv: list[str]) -> subprocess.Popen[bytes]:
    """`manage.py <argv>` with the instance's own settings (database, keys, broker)."""
    return subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", *argv],
        cwd=BASE_DIR,
        env=dict(instance.env, PYTHONUNBUFFERED="1"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _run_all_steps(steps: list[tuple[Instance, list[str]]], what: str) -> bool:
    """Run one management command per instance in parallel; print their output prefixed; True if all succeeded."""
    procs = [(instance, _manage(instance, argv)) for instance, argv in steps]
    ok = True
    for instance, proc in procs:
        try:
            output, _ = proc.communicate(timeout=PREPARE_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
            log(f"{what} of {instance.label} took more than {PREPARE_TIMEOUT:.0f} s")
            ok = False
        for line in output.decode("utf-8", errors="replace").splitlines():
            log(f"{instance.label} {what}: {line}")
        if proc.returncode != 0:
            log(f"{what} of {instance.label} failed (status {proc.returncode})")
            ok = False
    return ok


def prepare_instances(ward: Instance, partner: Instance, jlis_dir: Path, jlis_url: str) -> bool:
    """Prepare both instances (`manage.py prepare_instance`: migrate, seed, keys), then register each with the
    other and with J-LIS (`register_partner`)."""
    jlis_keys = jlis_dir / "keys"
    cross_count = os.environ.get("CROSS_WARD_COUNT") or str(CROSS_WARD_COUNT)
    residents = os.environ.get("PARTNER_RESIDENTS") or str(PARTNER_RESIDENTS)

    def prepare(me: Instance, other: Instance, *options: str) -> tuple[Instance, list[str]]:
        argv = ["prepare_instance", f"--public-key={me.public_key}", f"--cross-ward={other.code}"]
        return me, [*argv, f"--cross-ward-count={cross_count}", *options]

    steps = [
        prepare(ward, partner, f"--jlis-key-dir={jlis_keys}"),
        prepare(
            partner,
            ward,
            f"--residents={residents}",
            f"--seed={PARTNER_SEED}",
            f"--demo-accounts={partner.var / 'demo-accounts.txt'}",
        ),
    ]
    if not _run_all_steps(steps, "prepare"):
        return False
    partners_dir = jlis_dir / "partners"
    partners_dir.mkdir(parents=True, exist_ok=True)
    for instance in (ward, partner):  # J-LIS accepts exactly the two wards
        (partners_dir / f"{instance.code}.json").write_bytes(instance.public_key.read_bytes())

    def register(me: Instance, doc: Path, url: str) -> tuple[Instance, list[str]]:
        return me, ["register_partner", str(doc), "--transport=http", f"--endpoint={url}"]

    wards = [
        register(ward, partner.public_key, f"http://127.0.0.1:{partner.port}{INBOUND_PATH}"),
        register(partner, ward.public_key, f"http://127.0.0.1:{ward.port}{INBOUND_PATH}"),
    ]
    jlis = [register(me, jlis_keys / "public.json", jlis_url) for me in (ward, partner)]
    # Each instance registers the other ward, then J-LIS: one command at a time per database, both in parallel.
    return _run_all_steps(wards, "register") and _run_all_steps(jlis, "register")


def jlis_child(jlis_dir: Path, port: int) -> Child:
    argv = [sys.executable, "manage.py", "run_jlis_simulator", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--key-dir", str(jlis_dir / "keys"), "--state", str(jlis_dir / "state.sqlite3")]
    argv += ["--partners", str(jlis_dir / "partners")]
    return Child("jlis", argv, dict(os.environ, PYTHONUNBUFFERED="1"))


def build_children(
    host: str, port: int, env: dict[str, str] | None = None, prefix: str = "", worker_name: str = "worker"
) -> list[Child]:
    """gunicorn, a Celery worker and Celery beat of one instance (its settings come from `env`)."""
    env = dict(env if env is not None else os.environ, PYTHONUNBUFFERED="1")
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
        f"--hostname={worker_name}@%h",
        "--without-mingle",
        "--without-gossip",  # broadcasts to other workers: there are none, and they poll files
    ]
    beat = [python, "-m", "celery", "--app=config", "beat", "--loglevel=INFO"]
    return [
        Child(f"{prefix}web", web, env),
        Child(f"{prefix}worker", worker, env, ready_marker=WORKER_READY),
        Child(f"{prefix}beat", beat, env, ready_marker=BEAT_READY),
    ]


def wait_for_markers(children: list[Child], stop: threading.Event, timeout: float = READY_TIMEOUT) -> bool:
    """True once every child with a ready marker has printed it; False on timeout, stop request or a dead child."""
    deadline = time.monotonic() + timeout
    waiting = [child for child in children if child.ready_marker]
    while time.monotonic() < deadline and not stop.is_set():
        if not all(child.alive() for child in children):
            return False
        if all(child.ready.is_set() for child in waiting):
            return True
        time.sleep(POLL)
    return all(child.ready.is_set() for child in waiting)


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
    parser.add_argument("--partner-port", type=int, help="the partner instance's web port (default: port + 1)")
    parser.add_argument("--jlis-port", type=int, help="the J-LIS simulator's port (default: port + 2)")
    parser.add_argument("--no-partner", action="store_true", help="this ward alone: no partner instance, no J-LIS")
    parser.add_argument("--banner", type=Path, help="a file printed once the web server is ready (demo accounts)")
    args = parser.parse_args(argv)
    stop_timeout = float(os.environ.get("RUN_ALL_STOP_TIMEOUT") or 20)

    try:
        prepare_directories()
        ward_code, var_dir = ward_settings()
    except Exception as exc:  # noqa: BLE001 - any settings error: say it plainly and stop before starting anything
        log(f"cannot read the settings: {exc}")
        return 2

    url_host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host  # noqa: S104
    url_host = f"[{url_host}]" if ":" in url_host and not url_host.startswith("[") else url_host
    waits = [(args.host, args.port)]
    children = build_children(args.host, args.port)
    partner = jlis_url = None
    if not args.no_partner:
        partner_code = os.environ.get("PARTNER_LG_CODE") or PARTNER_CODE
        partner_var = var_dir / "partner"
        partner_var.mkdir(parents=True, exist_ok=True)
        # The partner is shown on "localhost": cookies are per host, not per port, so the two logins stay apart.
        ward = Instance("ward", ward_code, dict(os.environ), var_dir, args.port, url_host)
        partner = Instance(
            "partner",
            partner_code,
            partner_env(partner_var, partner_code),
            partner_var,
            args.partner_port or args.port + 1,
            "localhost" if url_host == "127.0.0.1" else url_host,
        )
        jlis_port = args.jlis_port or args.port + 2
        jlis_url = f"http://127.0.0.1:{jlis_port}{JLIS_PATH}"
        jlis_dir = var_dir / "jlis"
        log(f"preparing the partner instance ({partner_code}, {partner_var}) and J-LIS")
        started = time.monotonic()
        if not prepare_instances(ward, partner, jlis_dir, jlis_url):
            log("preparation failed: nothing started")
            return 2
        log(f"prepared in {time.monotonic() - started:.1f} s")
        children += build_children(args.host, partner.port, partner.env, prefix="p-", worker_name="partner")
        children.append(jlis_child(jlis_dir, jlis_port))
        waits += [(args.host, partner.port), ("127.0.0.1", jlis_port)]

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

    # All children are forked before any reader thread starts: preexec_fn is only safe in a single-threaded parent.
    for child in children:
        child.start()
    for child in children:
        child.start_reader()
        log(f"started {child.name} (pid {child.pid})")

    up = all(wait_for_port(host, port, children, stop) for host, port in waits)
    if up and not wait_for_markers(children, stop):
        up = not stop.is_set() and all(child.alive() for child in children)
        slow = [child.name for child in children if child.ready_marker and not child.ready.is_set()]
        if up:
            log(f"{', '.join(slow)} not ready after {READY_TIMEOUT:.0f} s; the logins follow anyway")
    if up:
        if partner is not None:
            log(f"partner: {partner.url}  ({partner.code}、同じデモ用アカウント) / J-LIS simulator: {jlis_url}")
        everything = "すべて" if partner is not None else "web・worker・beat をすべて"
        log(f"ready: http://{url_host}:{args.port}/  ({ward_code}; Ctrl-C で{everything}停止)")
        if args.banner and args.banner.exists():  # last: the logins stay on screen when start-up is over
            with _print_lock:
                sys.stdout.write("\n" + args.banner.read_text(encoding="utf-8"))
                sys.stdout.flush()
    elif not stop.is_set() and all(child.alive() for child in children):
        log(f"web is not answering on {waits} after {READY_TIMEOUT:.0f} s; still waiting")

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
    log(f"{signal.Signals(signum).name} received: stopping {', '.join(child.name for child in children)}")
    # gunicorn treats SIGHUP as "reload", so a hang-up is forwarded as SIGTERM.
    clean = stop_children(children, signal.SIGTERM if signum == signal.SIGHUP else signum, stop_timeout, again)
    log("stopped" if clean else "stopped, some by SIGKILL")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
