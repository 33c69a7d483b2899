"""窓口の検索・住民票画面 under load: 16 clerks against gunicorn on PostgreSQL, with and without the access log,
beside a bare Django view served by the same gunicorn.

    .venv/bin/python bench/web_bench.py                                 # 100,000 and 1,000,000 residents
    .venv/bin/python bench/web_bench.py --residents 2000 --duration 5   # a quick look
    # --warmup S (5)  --clients C (16)  --web-workers W (2 × cores + 1)  --server URL (the PostgreSQL server)
    # --database-url URL (measure a seeded database as it is)  --keep / --reuse NAME[,NAME]  --json-out PATH
    # --machine-note TEXT  --pool N (persons the search terms are drawn from)  --seed S

For each size: a scratch database `webbench_<size>_<pid>` is created on the server, migrated and seeded
(`seed_dummy --residents N --seed 1`), C dummy clerks with the 窓口担当 role are created in it, and gunicorn is started
on a free loopback port as production runs it (sync workers, --access-logfile -) with bench.settings (config.settings
with the benchmark's urlconf bench/urls.py, which adds the bare view), DEBUG off (see the notes). Each clerk logs
in through the real login form and then, one request at a time: a search (kana prefix, part of the kanji name, birth
date in 和暦 or 西暦, 住民票コード; terms drawn from random current residents), then the 住民票 of one person it
found, and so on. Three phases, each `--warmup` then `--duration` seconds: the bare view (reference), the mix with the
access log, and the mix again on a second gunicorn serving bench/wsgi_without_access_log.py (the product's application
with the writing of access entries skipped by the benchmark, not by a switch of the product). While the mix
runs, pg_stat_activity is sampled every 50 ms from a separate connection (sessions waiting on a lock, and waits on the
audit chain head). Checks: no answer but 200; exactly one access-log entry per gated request (none for the bare view
and with the switch on); the logins wrote one `login` entry each and no access entry; the chain verifies afterwards.

Progress on stderr, a Markdown table on stdout; exit 0 when it ran (targets missed are reported), 1 when a check
failed. Only dummy data is used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from result import Result  # noqa: E402
from web_load import (  # noqa: E402
    Clerk,
    ClerkScript,
    ConstantScript,
    Person,
    PhaseStats,
    run_phase,
    summarise,
)

from devtools.instances import Process, clean_env, free_port, gunicorn, shell_step, wait_for_port  # noqa: E402

NAME = "web"
TITLE = "窓口の検索・住民票画面（16 クライアント）"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
BARE_PATH = "/bench/bare/"  # bench/urls.py
APP_WITHOUT_ACCESS_LOG = "bench.wsgi_without_access_log:application"  # the log-off phase
SAMPLE_INTERVAL = 0.05
REQUEST_TIMEOUT = 30.0
START_TIMEOUT = 60.0
SEED_TIMEOUT = 3 * 3600.0
CLERK_PREFIX = "webbench-clerk-"
TARGET_P95_MS = 30.0
TARGET_SHARE_OF_BARE = 0.15
TARGET_AUDIT_COST = 10.0
CLK_TCK = os.sysconf("SC_CLK_TCK")

CLERKS_PY = """
import json, os
from django.contrib.auth import get_user_model
from django.db import transaction
from common.context import audit_context
from common.roles import RESIDENT_CLERK, assign_role, ensure_roles
users = get_user_model()
names = [f"{os.environ['WEBBENCH_PREFIX']}{i:02d}" for i in range(int(os.environ["WEBBENCH_CLERKS"]))]
with audit_context(None, "command:web_bench"), transaction.atomic():
    groups = ensure_roles()
    for name in names:
        user, _ = users.objects.get_or_create(username=name, defaults={"last_name": "ベンチ", "first_name": "窓口"})
        user.set_password(os.environ["WEBBENCH_PASSWORD"])
        user.is_active = True
        user.save()
        assign_role(user, RESIDENT_CLERK, groups)
from django.conf import settings
lanes = getattr(settings, "AUDIT_CHAIN_LANES", 1)
print("E2E-RESULT " + json.dumps({"clerks": names, "lanes": lanes}))
"""


def log(message: str) -> None:
    print(f"[web_bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- Databases -------------------------------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _admin(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(with_database(server, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def _manage(env: dict[str, str], *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def resident_count(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('registry_resident') IS NOT NULL").fetchone()[0]
        if not exists:
            return 0
        return conn.execute("SELECT count(*) FROM registry_resident WHERE status = 'current'").fetchone()[0]


@contextlib.contextmanager
def seeded_database(size: int, args: argparse.Namespace, env: dict[str, str], reuse: str | None) -> Iterator[str]:
    """A migrated database holding `size` current dummy residents: the one --database-url names, one kept earlier
    (--reuse), or a scratch one created, seeded and (unless --keep) dropped here."""
    if args.database_url:
        url, scratch = args.database_url, None
    elif reuse:
        url, scratch = with_database(args.server, reuse), None
    else:
        scratch = f"webbench_{size}_{os.getpid()}"
        url = with_database(args.server, scratch)
        log(f"creating {scratch}")
        _admin(args.server, f'CREATE DATABASE "{scratch}"')
    try:
        env = dict(env, DATABASE_URL=url)
        migrated = _manage(env, "migrate", "-v0", timeout=600)
        if migrated.returncode != 0:
            raise RuntimeError(f"migrate failed:\n{migrated.stdout[-3000:]}{migrated.stderr[-3000:]}")
        have = resident_count(url)
        if have == 0:
            log(f"seed_dummy --residents {size} --seed 1 (about 45 s per 100,000 on this machine)")
            started = time.monotonic()
            seeded = _manage(
                env, "seed_dummy", "--residents", str(size), "--seed", "1", "--no-progress", timeout=SEED_TIMEOUT
            )
            if seeded.returncode != 0:
                raise RuntimeError(f"seed_dummy failed:\n{seeded.stdout[-3000:]}{seeded.stderr[-3000:]}")
            log(f"seeded in {time.monotonic() - started:.0f} s")
        elif have != size and not args.database_url:
            log(f"note: {database_name(url)} holds {have} current residents, not {size}")
        started = time.monotonic()
        _analyze(url)
        log(f"VACUUM ANALYZE in {time.monotonic() - started:.0f} s (so that autovacuum does not run during a phase)")
        yield url
    finally:
        if scratch and not args.keep:
            log(f"dropping {scratch}")
            _admin(args.server, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        elif scratch:
            log(f"kept {scratch} (reuse it with --reuse {scratch}; drop it yourself afterwards)")


def _analyze(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def draw_people(url: str, count: int, seed: int) -> list[Person]:
    """Random current, unrestricted residents: the persons the clerks' search terms are drawn from."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT setseed(%s)", [((seed % 1000) + 1) / 1001])
        rows = conn.execute(
            "SELECT id, surname, given_name, surname_kana, given_name_kana, birth_date, juminhyo_code "
            "FROM registry_resident WHERE status = 'current' AND NOT access_restricted "
            "ORDER BY random() LIMIT %s",
            [count],
        ).fetchall()
    return [Person(*row) for row in rows]


def audit_mark(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM audit_auditlogentry").fetchone()[0]


def audit_since(url: str, mark: int) -> Counter[tuple[str, str, str]]:
    """(category, action, outcome) → entries written after `mark` (the chain appends them one at a time)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT category, action, outcome, count(*) FROM audit_auditlogentry WHERE id > %s GROUP BY 1, 2, 3",
            [mark],
        ).fetchall()
    return Counter({(c, a, o): n for c, a, o, n in rows})


# --- Watching the server ---------------------------------------------------------------------------------------------


def proc_cpu(pid: int) -> float | None:
    """utime + stime of a process in seconds (None when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def group_cpu(pid: int) -> float:
    """CPU seconds of gunicorn's master and its workers."""
    return sum(proc_cpu(p) or 0.0 for p in [pid, *children(pid)])


def system_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


@dataclass
class LockStats:
    samples: int = 0
    mean_sessions: float = 0.0
    mean_active: float = 0.0
    mean_lock_waiting: float = 0.0
    samples_chain_wait: int = 0
    mean_chain_waiting: float = 0.0
    backend_cpu_s: float = 0.0  # CPU of the database sessions seen (a lower bound: between samples it is not seen)


class ActivitySampler(threading.Thread):
    """Samples pg_stat_activity of one database every 50 ms from its own connection, after `delay` seconds."""

    QUERY = (
        "SELECT pid, state, wait_event_type, query FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )

    def __init__(self, url: str, delay: float) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.delay = delay
        self.stop_event = threading.Event()
        self.rows: list[tuple[int, int, int, int]] = []  # sessions, active, lock waits, chain-head lock waits
        self.cpu_first: dict[int, float] = {}
        self.cpu_last: dict[int, float] = {}
        self.error: str = ""

    def run(self) -> None:
        import psycopg

        if self.stop_event.wait(self.delay):
            return
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                while not self.stop_event.is_set():
                    began = time.monotonic()
                    rows = conn.execute(self.QUERY).fetchall()
                    lock = [r for r in rows if r[2] == "Lock"]
                    chain = [r for r in lock if "audit_auditchainhead" in (r[3] or "").lower()]
                    self.rows.append((len(rows), sum(1 for r in rows if r[1] == "active"), len(lock), len(chain)))
                    for pid, *_ in rows:
                        cpu = proc_cpu(pid)
                        if cpu is not None:
                            self.cpu_first.setdefault(pid, cpu)
                            self.cpu_last[pid] = cpu
                    self.stop_event.wait(max(0.0, SAMPLE_INTERVAL - (time.monotonic() - began)))
        except Exception as exc:  # noqa: BLE001 - reported as a note, the load goes on
            self.error = repr(exc)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=10)

    @property
    def backend_cpu_s(self) -> float:
        return sum(self.cpu_last[p] - self.cpu_first[p] for p in self.cpu_last)


def lock_stats(rows: list[tuple[int, int, int, int]], backend_cpu_s: float = 0.0) -> LockStats:
    if not rows:
        return LockStats(backend_cpu_s=backend_cpu_s)
    n = len(rows)
    return LockStats(
        samples=n,
        mean_sessions=sum(r[0] for r in rows) / n,
        mean_active=sum(r[1] for r in rows) / n,
        mean_lock_waiting=sum(r[2] for r in rows) / n,
        samples_chain_wait=sum(1 for r in rows if r[3]),
        mean_chain_waiting=sum(r[3] for r in rows) / n,
        backend_cpu_s=backend_cpu_s,
    )


# --- Phases ----------------------------------------------------------------------------------------------------------


@dataclass
class PhaseRun:
    """One phase (bare, log-on, log-off), accumulated over its rounds."""

    label: str
    samples: list = field(default_factory=list)
    audit: Counter = field(default_factory=Counter)  # (category, action, outcome) → entries written
    lock_rows: list = field(default_factory=list)  # pg_stat_activity samples
    backend_cpu_s: float = 0.0
    web_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    busy_jiffies: int = 0
    all_jiffies: int = 0
    wall_s: float = 0.0
    rounds: int = 0

    @property
    def stats(self) -> PhaseStats:
        return summarise(self.samples)

    @property
    def locks(self) -> LockStats:
        return lock_stats(self.lock_rows, self.backend_cpu_s)

    @property
    def machine_busy(self) -> float:
        """Share of all CPUs busy during the phase (everything on the machine)."""
        return self.busy_jiffies / self.all_jiffies if self.all_jiffies else 0.0

    @property
    def own_share(self) -> float:
        """Share of the machine's CPUs that gunicorn, the sessions seen and the client used during the phase."""
        used = self.web_cpu_s + self.backend_cpu_s + self.client_cpu_s
        return used / (self.wall_s * (os.cpu_count() or 1)) if self.wall_s else 0.0

    def cpu_ms_per_request(self, seconds: float) -> float:
        total = len(self.samples)
        return seconds * 1000 / total if total else 0.0

    @property
    def server_cpu_ms(self) -> float:
        """gunicorn + PostgreSQL CPU per request: what a request costs the server, whatever else runs."""
        return self.cpu_ms_per_request(self.web_cpu_s + self.backend_cpu_s)


@dataclass
class SizeRun:
    size: int
    workers: int
    bare: PhaseRun
    audit_on: PhaseRun
    audit_off: PhaseRun
    logins: Counter
    clerks: int
    chain_ok: bool
    chain_detail: str
    chain_lanes: int = 1  # AUDIT_CHAIN_LANES of the instance (audit/chain.py)


def run_round(
    phase: PhaseRun, url: str, web: Process, clerks: list[Clerk], scripts: list, args: argparse.Namespace
) -> None:
    """One round of a phase: `--warmup` seconds, then `--duration / --rounds` measured; added to `phase`."""
    duration = args.duration / args.rounds
    log(f"{phase.label} round {phase.rounds + 1}: {args.warmup:.0f} s warm-up + {duration:.0f} s")
    mark = audit_mark(url)
    sampler = ActivitySampler(url, delay=args.warmup)
    web_before, client_before, busy_before = group_cpu(web.pid), time.thread_time(), system_busy()
    wall_before = time.monotonic()
    sampler.start()
    try:
        samples = asyncio.run(run_phase(clerks, scripts, args.warmup, duration, phase.rounds))
    finally:
        sampler.stop()
        for clerk in clerks:
            clerk.close()
    phase.client_cpu_s += time.thread_time() - client_before
    phase.web_cpu_s += group_cpu(web.pid) - web_before
    busy_after = system_busy()
    phase.busy_jiffies += busy_after[0] - busy_before[0]
    phase.all_jiffies += busy_after[1] - busy_before[1]
    phase.wall_s += time.monotonic() - wall_before
    phase.samples += samples
    phase.lock_rows += sampler.rows
    phase.backend_cpu_s += sampler.backend_cpu_s
    phase.audit += audit_since(url, mark)
    phase.rounds += 1
    stats = summarise(samples)
    log(
        f"{phase.label}: {stats.rps:.1f} req/s, p50 {stats.p50_ms:.1f} ms, p95 {stats.p95_ms:.1f} ms, "
        f"p99 {stats.p99_ms:.1f} ms, {stats.requests} measured of {stats.total_requests}, errors {stats.errors or 0}"
    )
    if sampler.error:
        log(f"pg_stat_activity sampler failed: {sampler.error}")


async def _login_all(clerks: list[Clerk], names: list[str], password: str) -> None:
    await asyncio.gather(*(clerk.login(name, password) for clerk, name in zip(clerks, names, strict=True)))
    for clerk in clerks:
        clerk.close()


def start_web(
    env: dict[str, str], workers: int, folder: Path, label: str, app: str = "config.wsgi:application"
) -> tuple[Process, int]:
    port = free_port()
    web = gunicorn(env, port, folder / f"gunicorn-{label}.log", workers=workers, name=f"web-{label}", app=app)
    web.argv.append("--access-logfile=-")  # as the image runs it (Dockerfile)
    web.start()
    return web, port


def wait_until_booted(web: Process, port: int, workers: int, timeout: float = START_TIMEOUT) -> None:
    """Until gunicorn listens, has all its workers, and they have stopped importing (two quiet half-seconds), so
    that no phase pays for the boot."""
    wait_for_port(port, timeout, web)
    deadline = time.monotonic() + timeout
    quiet, last = 0, None
    while quiet < 2:
        if not web.alive():
            raise RuntimeError(f"{web.name} exited:\n{web.output()}")
        if time.monotonic() > deadline:
            log(f"{web.name}: still busy after {timeout:.0f} s; going on")
            return
        time.sleep(0.5)
        booted = len(children(web.pid)) >= workers
        cpu = group_cpu(web.pid)
        quiet = quiet + 1 if booted and last is not None and cpu - last < 0.02 else 0
        last = cpu if booted else None


def measure_size(size: int, url: str, env: dict[str, str], args: argparse.Namespace, folder: Path) -> SizeRun:
    password = secrets.token_urlsafe(18)
    env = dict(env, DATABASE_URL=url)
    made = shell_step(
        dict(env, WEBBENCH_PREFIX=CLERK_PREFIX, WEBBENCH_CLERKS=str(args.clients), WEBBENCH_PASSWORD=password),
        "common.roles",
        CLERKS_PY,
        timeout=300,
    )
    names = made["clerks"]
    people = draw_people(url, args.pool, args.seed)
    log(f"{len(names)} clerks ready; {len(people)} persons to draw search terms from")
    if not people:
        raise RuntimeError("no current, unrestricted residents to search for")

    def mix_scripts(number: int) -> list[ClerkScript]:  # the same sequences with and without the log
        return [ClerkScript(people, random.Random(f"{args.seed}-{number}-{i}")) for i in range(args.clients)]

    clerks = [Clerk(0, REQUEST_TIMEOUT) for _ in names]
    # Two gunicorns, the second with the access log switched off; an idle one costs nothing but memory.
    web_on, port_on = start_web(env, args.web_workers, folder, f"{size}-log-on")
    web_off, port_off = start_web(env, args.web_workers, folder, f"{size}-log-off", app=APP_WITHOUT_ACCESS_LOG)
    try:
        wait_until_booted(web_on, port_on, args.web_workers)
        wait_until_booted(web_off, port_off, args.web_workers)
        for clerk in clerks:
            clerk.connection.port = port_on
        mark = audit_mark(url)
        asyncio.run(_login_all(clerks, names, password))
        logins = audit_since(url, mark)
        log(f"{len(clerks)} clerks logged in")
        bare, audit_on, audit_off = PhaseRun("bare"), PhaseRun("log-on"), PhaseRun("log-off")
        for number in range(args.rounds):  # alternated, so that a change in the machine's load hits all three
            for clerk in clerks:
                clerk.connection.port = port_on
            run_round(bare, url, web_on, clerks, [ConstantScript("bare", BARE_PATH) for _ in clerks], args)
            run_round(audit_on, url, web_on, clerks, mix_scripts(number), args)
            for clerk in clerks:  # the sessions are in the database: the same clerks stay logged in
                clerk.connection.port = port_off
            run_round(audit_off, url, web_off, clerks, mix_scripts(number), args)
    finally:
        web_off.stop()
        web_on.stop()
    verified = _manage(env, "verify_audit_chain", timeout=600)
    chain_detail = (verified.stdout + verified.stderr).strip().splitlines()
    return SizeRun(
        size=size,
        workers=args.web_workers,
        bare=bare,
        audit_on=audit_on,
        audit_off=audit_off,
        logins=logins,
        clerks=len(names),
        chain_ok=verified.returncode == 0,
        chain_detail=chain_detail[-1] if chain_detail else "",
        chain_lanes=int(made.get("lanes", 1)),
    )


# --- The result ------------------------------------------------------------------------------------------------------


def access_entries(audit: Counter[tuple[str, str, str]]) -> int:
    return sum(n for (category, _, _), n in audit.items() if category == "access")


def outcomes(audit: Counter[tuple[str, str, str]], category: str = "") -> dict[str, int]:
    """Entries by category/action/outcome (of one category only, if given), for the checks' details."""
    found: Counter[str] = Counter()
    for (c, a, o), n in audit.items():
        if not category or c == category:
            found[f"{c}/{a}/{o}"] += n
    return dict(sorted(found.items()))


def gated_requests(stats: PhaseStats) -> int:
    """Requests that went through the gate (every request of the mix; none of the bare view's)."""
    return sum(n for kind, n in stats.kinds_total.items() if kind != "bare")


def audit_cost_percent(on: PhaseStats, off: PhaseStats) -> float:
    """Throughput lost to the access log, in % of the throughput without it."""
    return (off.rps - on.rps) / off.rps * 100 if off.rps else 0.0


def audit_cost_cpu_percent(on: PhaseRun, off: PhaseRun) -> float:
    """Server CPU (gunicorn + PostgreSQL) a request costs more with the access log, in % of the cost without it:
    the figure that a busy, shared machine disturbs least."""
    return (on.server_cpu_ms - off.server_cpu_ms) / off.server_cpu_ms * 100 if off.server_cpu_ms else 0.0


def add_size(result: Result, run: SizeRun) -> None:
    """Figures, reference, ratios, targets and checks of one size."""
    size, on, off, bare = run.size, run.audit_on, run.audit_off, run.bare
    for phase in (on, off):
        tag = "アクセスログあり" if phase is on else "アクセスログなし"
        result.add_figure(f"混合負荷（{tag}）スループット", round(phase.stats.rps, 1), "req/s", size)
        result.add_figure(f"混合負荷（{tag}）p50", round(phase.stats.p50_ms, 1), "ms", size)
        result.add_figure(f"混合負荷（{tag}）p95", round(phase.stats.p95_ms, 1), "ms", size)
        result.add_figure(f"混合負荷（{tag}）p99", round(phase.stats.p99_ms, 1), "ms", size)
    for kind, values in on.stats.by_kind.items():
        result.add_figure(f"アクセスログあり p95: {kind}", round(values["p95_ms"], 1), "ms", size)
    cost = audit_cost_percent(on.stats, off.stats)
    result.add_figure("アクセスログのコスト（スループット）", round(cost, 1), "%", size)
    result.add_figure("アクセスログのコスト（サーバ CPU/要求）", round(audit_cost_cpu_percent(on, off), 1), "%", size)
    result.add_figure(
        "ロック待ちのセッション数（平均、ログあり）", round(on.locks.mean_lock_waiting, 3), "sessions", size
    )
    result.add_figure(
        "監査チェーン先頭のロック待ちが見えたサンプル（ログあり）", on.locks.samples_chain_wait, "samples", size
    )
    result.add_figure("pg_stat_activity のサンプル数（ログあり）", on.locks.samples, "samples", size)
    result.add_figure(
        "ロック待ちのセッション数（平均、ログなし）", round(off.locks.mean_lock_waiting, 3), "sessions", size
    )
    result.add_figure("実行中のセッション数（平均、ログあり）", round(on.locks.mean_active, 2), "sessions", size)
    for phase, tag in ((on, "ログあり"), (off, "ログなし"), (bare, "素のビュー")):
        result.add_figure(
            f"CPU/要求 gunicorn（{tag}）", round(phase.cpu_ms_per_request(phase.web_cpu_s), 2), "ms", size
        )
        result.add_figure(
            f"CPU/要求 PostgreSQL（{tag}、下限）",
            round(phase.cpu_ms_per_request(phase.locks.backend_cpu_s), 2),
            "ms",
            size,
        )
        result.add_figure(
            f"CPU/要求 負荷クライアント（{tag}）", round(phase.cpu_ms_per_request(phase.client_cpu_s), 2), "ms", size
        )
        result.add_figure(f"マシン全体の CPU 使用率（{tag}）", round(phase.machine_busy * 100, 1), "%", size)
        result.add_figure(f"うちこのベンチの分（{tag}）", round(phase.own_share * 100, 1), "%", size)
    result.add_reference("素の Django ビュー スループット", round(bare.stats.rps, 1), "req/s", size)
    result.add_reference("素の Django ビュー p50", round(bare.stats.p50_ms, 1), "ms", size)
    result.add_reference("素の Django ビュー p95", round(bare.stats.p95_ms, 1), "ms", size)
    share = on.stats.rps / bare.stats.rps if bare.stats.rps else 0.0
    result.add_ratio(f"混合負荷（ログあり）/ 素のビュー（{size:,} 人）", round(share, 3))
    result.add_ratio(
        f"ログなし / ログあり スループット（{size:,} 人）",
        round(off.stats.rps / on.stats.rps if on.stats.rps else 0, 3),
    )
    result.add_target(f"p95（ログあり、{size:,} 人）", f"p95 ≤ {TARGET_P95_MS:.0f} ms", round(on.stats.p95_ms, 1), "ms",
                      on.stats.p95_ms <= TARGET_P95_MS)  # fmt: skip
    result.add_target(f"素のビューに対するスループット（{size:,} 人）", f"≥ {TARGET_SHARE_OF_BARE:.0%}",
                      round(share * 100, 1), "%", share >= TARGET_SHARE_OF_BARE)  # fmt: skip
    result.add_target(f"アクセスログのコスト（{size:,} 人）", f"≤ {TARGET_AUDIT_COST:.0f} %", round(cost, 1), "%",
                      cost <= TARGET_AUDIT_COST)  # fmt: skip
    for phase in (bare, on, off):
        result.add_check(
            f"200 以外の応答なし（{phase.label}、{size:,} 人）",
            phase.stats.error_count == 0,
            f"{phase.stats.total_requests} 要求、誤り {phase.stats.errors or 0}",
        )
    expected = {"bare": 0, "log-on": gated_requests(on.stats), "log-off": 0}
    for phase in (bare, on, off):
        written = access_entries(phase.audit)
        others = sum(phase.audit.values()) - written
        result.add_check(
            f"アクセスログの件数が要求数と一致（{phase.label}、{size:,} 人）",
            written == expected[phase.label] and others == 0,
            f"access {written} 件（期待 {expected[phase.label]}）、ほかの分類 {others} 件、"
            f"結果 {outcomes(phase.audit, 'access')}",
        )
    login_entries = run.logins.get(("account", "login", "done"), 0)
    result.add_check(
        f"ログインごとに login 記録が一件、アクセス記録なし（{size:,} 人）",
        login_entries == run.clerks and sum(run.logins.values()) == run.clerks,
        f"{outcomes(run.logins)}",
    )
    result.add_check(f"監査チェーンの検証（{size:,} 人）", run.chain_ok, run.chain_detail)


def add_size_ratios(result: Result, runs: list[SizeRun]) -> None:
    """Largest size over smallest: throughput and p95 with the access log."""
    if len(runs) < 2:
        return
    small, large = min(runs, key=lambda r: r.size), max(runs, key=lambda r: r.size)
    label = f"{large.size:,} / {small.size:,}"
    s, big = small.audit_on.stats, large.audit_on.stats
    result.add_ratio(f"スループット {label}（ログあり）", round(big.rps / s.rps if s.rps else 0, 3))
    result.add_ratio(f"p95 {label}（ログあり）", round(big.p95_ms / s.p95_ms if s.p95_ms else 0, 3))


# --- Main ------------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", default="100000,1000000", help="sizes, comma-separated (default 100000,1000000)")
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds before each round of a phase")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per phase, the phases alternating")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--web-workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server for the scratch databases")
    parser.add_argument("--database-url", default="", help="measure this seeded database as it is (one size)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument("--reuse", default="", help="databases kept by --keep on --server, one per size")
    parser.add_argument("--pool", type=int, default=2000, help="persons the search terms are drawn from")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json-out", default="")
    parser.add_argument("--machine-note", default="")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.residents.split(",") if s.strip()]
    args.reuse_names = [n for n in args.reuse.split(",") if n.strip()]
    if args.database_url and len(args.sizes) != 1:
        parser.error("--database-url measures one database: give one --residents size")
    if args.reuse_names and len(args.reuse_names) != len(args.sizes):
        parser.error("--reuse needs one database name per --residents size")
    if args.clients < 1 or args.web_workers < 1 or args.rounds < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--clients, --web-workers, --rounds and --duration must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = Result(
        name=NAME,
        title=TITLE if args.clients == 16 else TITLE.replace("16", str(args.clients)),
        parameters={
            "residents": args.sizes,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "clients": args.clients,
            "web_workers": args.web_workers,
            "gunicorn": "sync workers, --threads 1, --access-logfile -, --timeout 120",
            "settings": "bench.settings (config.settings + bench/urls.py), DJANGO_DEBUG=false",
            "pool": args.pool,
            "seed": args.seed,
        },
    )
    result.machine["note"] = args.machine_note
    base_env = clean_env(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SETTINGS_MODULE="bench.settings",
    )
    runs: list[SizeRun] = []
    with tempfile.TemporaryDirectory(prefix="webbench-") as tmp:
        folder = Path(tmp)
        base_env["WARD_VAR_DIR"] = str(folder / "var")
        (folder / "var").mkdir()
        for index, size in enumerate(args.sizes):
            reuse = args.reuse_names[index] if args.reuse_names else None
            with seeded_database(size, args, base_env, reuse) as url:
                runs.append(measure_size(size, url, base_env, args, folder))
            add_size(result, runs[-1])
    add_size_ratios(result, runs)
    if runs:
        result.parameters["audit_chain_lanes"] = runs[-1].chain_lanes
    add_notes(result, args, runs)
    result.write(args.json_out)
    print(result.markdown())
    return 0 if result.ok else 1


def add_notes(result: Result, args: argparse.Namespace, runs: list[SizeRun]) -> None:
    result.add_note(
        f"gunicorn {args.web_workers} sync workers (2 × {os.cpu_count()} cores + 1 unless --web-workers), "
        "started as the image starts it (--access-logfile -), on 127.0.0.1 with bench.settings (config.settings with "
        "the benchmark's urlconf, which adds the bare view), DJANGO_DEBUG=false: not config.settings_production, "
        "whose HTTPS redirect, HSTS and secure cookies cost nothing measurable on a request."
    )
    result.add_note(
        f"{args.clients} clients, one asyncio load client in this process (its CPU is reported): each logs in "
        "through the form, then search → 住民票 of a person found → search…; searches kana 3 : kanji 3 : "
        "birth date 2 : 住民票コード 2. Sync workers close the connection after each answer, so every request "
        "opens a new loopback connection."
    )
    result.add_note(
        "The bare view runs through the whole middleware with the clerk's session (the framework floor of a "
        "signed-in request); the log-off phase runs on a second gunicorn serving bench/wsgi_without_access_log.py "
        "(the product's application, the access entries skipped by the benchmark itself)."
    )
    result.add_note(
        "PostgreSQL CPU is that of the sessions seen by the 50 ms sampler (a lower bound); the machine's busy share "
        "includes everything else running on it."
    )
    if runs:
        result.add_note(
            f"Audit chain with {runs[-1].chain_lanes} lane(s) (AUDIT_CHAIN_LANES, passed through from the environment "
            "of this script: AUDIT_CHAIN_LANES=1 measures the single chain); the lock sampler counts sessions waiting "
            "on a lock, and among them those whose query names audit_auditchainhead."
        )
    for run in runs:
        kinds = ", ".join(f"{k} {v}" for k, v in run.audit_on.stats.kinds_total.items())
        result.add_note(f"{run.size:,} residents, requests by kind with the log: {kinds}.")


if __name__ == "__main__":
    sys.exit(main())
