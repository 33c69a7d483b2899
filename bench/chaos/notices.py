"""Notices under fault injection: ward A makes N changes that each raise one notice to a partner while the
harness kills A's Celery worker, restarts Redis and takes a partner offline; afterwards every notice must have been
acknowledged and applied exactly once, soon after the last fault.

    .venv/bin/python bench/chaos/notices.py [--changes 2000] [--worker-kills 5] [--redis-restarts 1]
        [--redis-restarts-lost 1] [--partner-offline 30] [--json-out PATH]
    .venv/bin/python bench/chaos/notices.py --changes 200 --worker-kills 2 --partner-offline 10   # small (CI)

Real processes on loopback (devtools/instances.py), each instance with a scratch PostgreSQL database (--database-url,
created and dropped here):

- ward A (新宿区 131041): Celery worker (prefork) and beat (the sweeper), its broker on a redis-server of our own
  (a free port, --save "" --appendonly no, files in the work folder), so that "restart Redis" is real;
- partner B (渋谷区 131130): gunicorn, reached directly;
- partner C (中野区 131148): gunicorn, reached through a fault proxy (bench/chaos/faults.py) that answers 503 to
  every 5th request (deterministic; --c-seed S: each request with probability 1/5, seeded) and forwards the rest.

B and C keep their own outgoing notices (the J-LIS notices their 附票 changes raise) in a filesystem broker no one
reads. The persons are shared dummy persons (seed_dummy --cross-ward, once per pair): A's residents whose 本籍 is in
B or C, so each 転居 at A raises one 戸籍の附票記載事項通知 to the 本籍地. --writers processes make the changes at
--rate changes/s in all (one transaction each, alternating B and C persons).

Faults, spread over the writing (fault k of K when k/(K+1) of the changes are written), each logged with its times:
A's worker killed with SIGKILL (its process group, by pid) and started again; Redis restarted cleanly (SHUTDOWN SAVE,
the queue survives) and once losing its queue (SIGKILL, no dump: the sweeper must redeliver); B's gunicorn killed
(SIGKILL) and started again on the same port after --partner-offline seconds.

Checks (each count printed): A's outbox holds every notice acknowledged, nothing pending/sending/sent/failed, one
`acknowledged` audit entry per notice; at B and at C exactly one inbound notice per message id A sent there, as many
as A sent, all applied; per moved person one 附票 address row with the new address (the current one), one J-LIS
notice and one inbound notice; the last acknowledgement within --recover-within s of the end of the last fault
(--recover-within-lost s of a Redis restart that lost its queue). Exit status 0 only if every check holds. Every
process and database this started is stopped or dropped on the way out (also on Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from bench.chaos.faults import FailurePlan, FaultLog, FaultProxy, RedisServer  # noqa: E402
from bench.result import Result  # noqa: E402
from devtools import instances  # noqa: E402

A, B, C = "131041", "131130", "131148"
NAME = "chaos-notices"
TITLE = "障害注入下の通知配信（ワーカー強制終了・Redis 再起動・相手団体の停止・503 を返す相手）"
OPEN_STATES = ("pending", "sending", "sent", "failed")
WORKER_KILL, REDIS_CLEAN, REDIS_LOST, PARTNER_OFFLINE = (
    "worker_kill",
    "redis_restart",
    "redis_restart_queue_lost",
    "partner_offline",
)
CELERY_QUEUE = "celery"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- The plan of faults -----------------------------------------------------------------------------------------


def fault_plan(kills: int, clean: int, lost: int, offline: bool) -> list[str]:
    """The faults in order: the worker kills with the others between them (clean Redis restarts first, then the
    partner's outage, then the restarts that lose the queue), so that the kinds are spread over the run."""
    others = [REDIS_CLEAN] * clean + ([PARTNER_OFFLINE] if offline else []) + [REDIS_LOST] * lost
    plan: list[str] = []
    for i in range(max(kills, len(others))):
        if i < kills:
            plan.append(WORKER_KILL)
        if i < len(others):
            plan.append(others[i])
    return plan


def trigger_points(total: int, faults: int) -> list[int]:
    """Fault k (0-based) of `faults` starts once this many changes are written: k+1 / (faults+1) of `total`."""
    return [max(1, total * (k + 1) // (faults + 1)) for k in range(faults)]


# --- Preparing three instances ------------------------------------------------------------------------------------

PREPARE_PY = """
import json, os
from pathlib import Path
from django.conf import settings
from django.core.management import call_command

step = json.loads(os.environ["CHAOS_STEP"])
if step["step"] == "prepare":
    call_command("migrate", interactive=False, verbosity=0)
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(key):
                Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]).mkdir(parents=True, exist_ok=True)
    for partner, count in step["cross"]:
        call_command("seed_dummy", cross_ward=partner, cross_ward_count=count)
    call_command("generate_ward_keys", if_missing=True)
    call_command("export_public_key", output=step["public_key"], name=settings.WARD_LG_CODE)
else:
    for doc, url in step["partners"]:
        call_command("register_partner", doc, transport="http", endpoint=url)
"""


def run_steps(steps: list[tuple[dict[str, str], dict]], what: str, timeout: float) -> None:
    """Run PREPARE_PY in each instance at the same time (one child process each, bounded)."""
    procs = []
    for env, step in steps:
        procs.append(
            subprocess.Popen(  # noqa: S603 - fixed argv
                [sys.executable, "manage.py", "shell", "--no-imports", "-v", "0", "-c", PREPARE_PY],
                cwd=BASE_DIR,
                env=dict(env, CHAOS_STEP=json.dumps(step)),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    failures = []
    try:
        for (env, _), proc in zip(steps, procs, strict=True):
            try:
                output, _ = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate()
            if proc.returncode != 0:
                failures.append(f"{what} of {env['WARD_LG_CODE']} failed ({proc.returncode}):\n{output[-4000:]}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    if failures:
        raise RuntimeError("\n".join(failures))


def prepare(
    env_a: dict[str, str],
    partners: dict[str, dict[str, str]],
    urls: dict[str, str],
    counts: dict[str, int],
    timeout: float,
) -> None:
    """Migrate all three, seed A's shared persons with each partner (2·count per pair: count of them live in A with
    their 本籍 at the partner), exchange keys; A registers each partner at `urls[code]`, each partner registers A."""
    key = {code: Path(env["WARD_VAR_DIR"]) / "public-key.json" for code, env in {A: env_a, **partners}.items()}
    steps = [(env_a, {"step": "prepare", "cross": [[p, 2 * counts[p]] for p in partners], "public_key": str(key[A])})]
    steps += [
        (env, {"step": "prepare", "cross": [[A, 2 * counts[code]]], "public_key": str(key[code])})
        for code, env in partners.items()
    ]
    run_steps(steps, "prepare", timeout)
    nowhere = f"http://127.0.0.1:{instances.free_port()}{instances.INBOUND_PATH}"  # no one sends to A here
    registers = [(env_a, {"step": "register", "partners": [[str(key[p]), urls[p]] for p in partners]})]
    registers += [(env, {"step": "register", "partners": [[str(key[A]), nowhere]]}) for env in partners.values()]
    run_steps(registers, "register", timeout)


# --- Writers: the changes at A --------------------------------------------------------------------------------------

WRITER_PY = """
import json, os, sys, time
from django.contrib.auth import get_user_model
from django.utils import timezone
from common.context import audit_context
from registry import services
from registry.choices import ResidentStatus
from registry.models import Resident
from registry.services.entries import NewHousehold

e = os.environ
index, writers, interval = int(e["CHAOS_INDEX"]), int(e["CHAOS_WRITERS"]), float(e["CHAOS_INTERVAL"])
moves = json.loads(open(os.environ["CHAOS_MOVES"], encoding="utf-8").read())[index::writers]
clerk, _ = get_user_model().objects.get_or_create(username="chaos-clerk-%d" % index, defaults={"last_name": "試験"})
today = timezone.localdate()
done = failed = 0
start = time.monotonic()
with audit_context(clerk.pk, "bench"):
    for i, (code, address) in enumerate(moves):
        wait = start + i * interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            resident = Resident.objects.get(juminhyo_code=code, status=ResidentStatus.CURRENT)
            services.move_within(
                [resident], change_date=today, notified_on=today, new_address=NewHousehold(address=address)
            )
            done += 1
        except Exception as exc:
            failed += 1
            print("CHAOS-WRITER-ERROR", i, type(exc).__name__, str(exc)[:200], flush=True)
print("CHAOS-WRITER", done, failed, flush=True)
"""


def start_writers(
    env: dict[str, str], moves_file: Path, writers: int, rate: float, tmp: Path
) -> list[subprocess.Popen]:
    interval = writers / rate if rate > 0 else 0.0  # seconds between two changes of one writer
    procs = []
    for index in range(writers):
        log_file = (tmp / f"writer-{index}.log").open("wb")
        procs.append(
            subprocess.Popen(  # noqa: S603 - fixed argv
                [sys.executable, "manage.py", "shell", "--no-imports", "-v", "0", "-c", WRITER_PY],
                cwd=BASE_DIR,
                env=dict(
                    env,
                    CHAOS_INDEX=str(index),
                    CHAOS_WRITERS=str(writers),
                    CHAOS_INTERVAL=str(interval),
                    CHAOS_MOVES=str(moves_file),
                ),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        log_file.close()
    return procs


def writer_totals(tmp: Path, writers: int) -> tuple[int, int, list[str]]:
    """(changes made, changes failed, problems) from the writers' logs."""
    done = failed = 0
    problems = []
    for index in range(writers):
        text = (tmp / f"writer-{index}.log").read_text(encoding="utf-8", errors="replace")
        lines = [line.split() for line in text.splitlines() if line.startswith("CHAOS-WRITER ")]
        if not lines:
            problems.append(f"writer {index} did not finish:\n{text[-2000:]}")
            continue
        done += int(lines[-1][1])
        failed += int(lines[-1][2])
        problems += [line for line in text.splitlines() if line.startswith("CHAOS-WRITER-ERROR")][:5]
    return done, failed, problems


# --- Reading the databases ----------------------------------------------------------------------------------------


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as conn:
        return conn.execute(sql, params).fetchall()


def outbox_states(url: str) -> Counter[str]:
    rows = query(
        url, "SELECT state, count(*) FROM transfers_outboundnotice WHERE receiver IN (%s, %s) GROUP BY 1", (B, C)
    )
    return Counter(dict(rows))


def movable_persons(url_a: str, per_partner: dict[str, int]) -> list[tuple[str, str, str]]:
    """(住民票コード, 本籍地 code, new address) of the residents of A to move: the first `per_partner[code]` whose
    本籍 is at each partner, alternating between the partners, each with a new address of their own."""
    lists = {}
    for code, count in per_partner.items():
        rows = query(
            url_a,
            "SELECT juminhyo_code FROM registry_resident WHERE status = 'current' AND honseki_municipality_id = %s "
            "ORDER BY id LIMIT %s",
            (code, count),
        )
        if len(rows) < count:
            raise RuntimeError(f"only {len(rows)} residents of A have their 本籍 at {code}; {count} needed")
        lists[code] = [r[0] for r in rows]
    chosen = []
    longest = max((len(v) for v in lists.values()), default=0)
    for i in range(longest):
        for code, codes in lists.items():
            if i < len(codes):
                chosen.append((codes[i], code))
    return [
        (person, partner, f"西新宿{'一二三四五六七八'[i // 1250 % 8]}丁目{i // 25 % 50 + 1}番{i % 25 + 1}号")
        for i, (person, partner) in enumerate(chosen)
    ]


# --- The run ------------------------------------------------------------------------------------------------------


@dataclass
class World:
    """What the harness started: the processes, the proxy, the Redis server, the databases."""

    tmp: Path
    urls: dict[str, str]
    env: dict[str, dict[str, str]]
    ports: dict[str, int]
    redis: RedisServer
    proxy: FaultProxy
    args: argparse.Namespace
    processes: list[instances.Process] = field(default_factory=list)
    writers: list[subprocess.Popen] = field(default_factory=list)
    worker: instances.Process | None = None
    beat: instances.Process | None = None
    web: dict[str, instances.Process] = field(default_factory=dict)
    unexpected: list[dict] = field(default_factory=list)  # processes of ours that exited on their own

    def _keep(self, process: instances.Process) -> instances.Process:
        self.processes.append(process)
        return process.start()

    def start_web(self, code: str) -> float:
        name = f"web-{code}"
        process = instances.gunicorn(
            self.env[code], self.ports[code], self.tmp / f"{name}.log", workers=self.args.web_workers, name=name
        )
        self.web[code] = self._keep(process)
        return instances.wait_for_port(self.ports[code], 60, process)

    def start_worker(self) -> float:
        """A's worker; returns time.time() when it reports ready (or after 60 s)."""
        path = self.tmp / "worker-a.log"
        before = _ready_lines(path)
        self.worker = self._keep(
            instances.celery_worker(
                self.env[A], path, name="worker-a", pool="prefork", concurrency=self.args.concurrency
            )
        )
        deadline = time.monotonic() + 60
        while _ready_lines(path) <= before and time.monotonic() < deadline:
            if not self.worker.alive():
                raise RuntimeError(f"A's worker exited:\n{self.worker.output()}")
            time.sleep(0.2)
        return time.time()

    def start_beat(self) -> None:
        self.beat = self._keep(instances.celery_beat(self.env[A], self.tmp / "beat-a.log", name="beat-a"))

    def supervise(self) -> None:
        """Start again a process of ours that exited on its own (as the production stack's `restart:
        unless-stopped` does) and record it: a process dying by itself is a finding, not a fault we injected."""
        for name, process, restart in (
            ("worker-a", self.worker, self.start_worker),
            ("beat-a", self.beat, self.start_beat),
            *((f"web-{code}", web, lambda code=code: self.start_web(code)) for code, web in self.web.items()),
        ):
            if process is None or process.alive():
                continue
            status = process.proc.returncode
            reason = _last_error(process.output(20000))
            log(f"[{time.strftime('%H:%M:%S')}] {name} (pid {process.pid}) exited on its own ({status}): {reason}")
            self.unexpected.append(
                {"process": name, "pid": process.pid, "status": status, "at": time.time(), "reason": reason}
            )
            restart()

    def stop(self) -> None:
        for proc in self.writers:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # its own session: the pid is the group
                proc.wait(timeout=10)
        for process in reversed(self.processes):
            process.stop(timeout=10)

    def queued(self) -> int:
        import redis

        try:
            return int(redis.Redis(host="127.0.0.1", port=self.redis.port, db=0, socket_timeout=2).llen(CELERY_QUEUE))
        except redis.RedisError:
            return -1


def _last_error(output: str) -> str:
    """The last 'Unrecoverable error' / exception line of a log tail, for the report."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Unrecoverable error" in line or "CRITICAL" in line:
            return line[-300:]
    errors = [line for line in lines if line.split(":", 1)[0].endswith(("Error", "Exception"))]
    return (errors[-1] if errors else (lines[-1] if lines else ""))[-300:]


def _ready_lines(path: Path) -> int:
    try:
        return path.read_text(encoding="utf-8", errors="replace").count(" ready.")
    except FileNotFoundError:
        return 0


def inject(world: World, kind: str, faults: FaultLog) -> None:
    args = world.args
    if kind == WORKER_KILL:
        sending = outbox_states(world.urls[A]).get("sending", 0)
        with faults.fault(
            kind, f"SIGKILL to A's worker (pid {world.worker.pid}, its group); {sending} notices sending"
        ):
            world.worker.kill()
            world.start_worker()
    elif kind in (REDIS_CLEAN, REDIS_LOST):
        lose = kind == REDIS_LOST
        queued = world.queued()
        how = "SIGKILL, no dump (the queue is lost)" if lose else "SHUTDOWN SAVE and reload (the queue survives)"
        with faults.fault(
            kind, f"Redis pid {world.redis.proc.pid}: {how}, down {args.redis_down:g} s; {queued} queued"
        ):
            world.redis.restart(lose_queue=lose, down=args.redis_down)
        log(f"  Redis back: {world.queued()} queued (before: {queued})")
    elif kind == PARTNER_OFFLINE:
        web = world.web[B]
        with faults.fault(kind, f"B's gunicorn (pid {web.pid}, its group) killed, {args.partner_offline:g} s offline"):
            web.kill()
            time.sleep(args.partner_offline)
            world.start_web(B)
    else:
        raise ValueError(kind)


def drive(world: World, result: Result, faults: FaultLog, total: int) -> dict[str, float]:
    """Start the writers, inject the faults as the changes are written, wait for the acknowledgements. Returns the
    moments that matter (time.time())."""
    args = world.args
    plan = fault_plan(args.worker_kills, args.redis_restarts, args.redis_restarts_lost, args.partner_offline > 0)
    points = trigger_points(total, len(plan))
    log(f"faults: {', '.join(f'{k}@{p}' for k, p in zip(plan, points, strict=True))}")
    moments: dict[str, float] = {"writers_started": time.time()}
    world.writers = start_writers(world.env[A], world.tmp / "moves.json", args.writers, args.rate, world.tmp)
    started = time.monotonic()
    hard_deadline = started + args.timeout
    last_line, next_fault, last_fault_end = "", 0, 0.0
    recover_deadline: float | None = None
    while True:
        world.supervise()
        states = outbox_states(world.urls[A])
        written = sum(states.values())
        writing = any(p.poll() is None for p in world.writers)
        if writing is False and "writers_done" not in moments:
            moments["writers_done"] = time.time()
        line = " ".join(f"{k}={v}" for k, v in sorted(states.items()))
        if line != last_line:
            log(f"  {time.monotonic() - started:7.1f} s  written {written}/{total}  {line}")
            last_line = line
        if next_fault < len(plan):
            due = written >= points[next_fault] or not writing
            if due and time.monotonic() - last_fault_end >= args.fault_gap:
                inject(world, plan[next_fault], faults)
                last_fault_end = time.monotonic()
                next_fault += 1
                continue
        else:
            if recover_deadline is None:
                recover_deadline = deadline_after_faults(faults, args)
            done = not writing and states.get("acknowledged", 0) >= written and written > 0
            if done:
                break
            if not writing and time.time() > recover_deadline + args.grace:
                log(f"still open {args.grace:g} s after the recovery deadline: giving up")
                break
        if time.monotonic() > hard_deadline:
            log(f"--timeout {args.timeout:g} s reached")
            break
        time.sleep(0.5)
    moments["finished"] = time.time()
    return moments


def deadline_after_faults(faults: FaultLog, args: argparse.Namespace) -> float:
    """time.time() by which the last acknowledgement must have come: --recover-within after the end of the last
    fault, or --recover-within-lost after the last Redis restart that lost its queue, whichever is later."""
    last = faults.last()
    deadline = (last.ended if last else time.time()) + args.recover_within
    lost = faults.last(REDIS_LOST)
    if lost is not None:
        deadline = max(deadline, lost.ended + args.recover_within_lost)
    return deadline


# --- The checks ---------------------------------------------------------------------------------------------------


def check_sender(world: World, result: Result, moves: list[tuple[str, str, str]]) -> dict[str, list[tuple]]:
    """A's outbox: every notice acknowledged, nothing open, one acknowledged audit entry each. Returns A's notices per
    receiver: (message id, 住民票コード, attempts, created, acknowledged)."""
    url = world.urls[A]
    rows = query(
        url,
        "SELECT receiver, message_id::text, juminhyo_code, kind, state, attempts, "
        "extract(epoch FROM created_at)::float8, extract(epoch FROM acknowledged_at)::float8 "
        "FROM transfers_outboundnotice ORDER BY id",
    )
    per_receiver: dict[str, list[tuple]] = {B: [], C: []}
    others = Counter()
    for receiver, message_id, code, kind, state, attempts, created, acked in rows:
        if receiver in per_receiver and kind == "fuhyo_items":
            per_receiver[receiver].append((message_id, code, state, attempts, created, acked))
        else:
            others[(receiver, kind)] += 1
    expected = Counter(partner for _, partner, _ in moves)
    for code in (B, C):
        got = len(per_receiver[code])
        result.add_check(
            f"A が {code} 宛てに作った通知の数", got == expected[code], f"{got} 件（変更 {expected[code]} 件）"
        )
    result.add_check("A の通知はすべて附票記載事項通知で B か C 宛て", not others, str(dict(others)) or "ほかになし")
    states = Counter(state for notices in per_receiver.values() for _, _, state, *_ in notices)
    acked = states.get("acknowledged", 0)
    total = sum(states.values())
    result.add_check("A の送信箱: すべて受領確認済", acked == total, f"{acked} / {total} 件")
    stuck = {s: states[s] for s in OPEN_STATES if states.get(s)}
    result.add_check("A の送信箱: 未送信・送信中・送信済・失敗なし", not stuck, str(stuck) if stuck else "0 件")
    audit = dict(
        query(
            url,
            "SELECT conditions->>'message_id', count(*) FROM audit_auditlogentry "
            "WHERE category = 'transmission' AND action = 'acknowledged' GROUP BY 1",
        )
    )
    ids = [n[0] for notices in per_receiver.values() for n in notices]
    once = sum(1 for m in ids if audit.get(m) == 1)
    twice = sum(1 for m in ids if audit.get(m, 0) > 1)
    result.add_check(
        "A の監査ログ: 受領確認の記録は通知ごとに 1 件",
        once == len(ids),
        f"1 件 {once}、2 件以上 {twice}、計 {len(ids)}",
    )
    log(f"A: {total} notices ({', '.join(f'{k} {len(v)}' for k, v in per_receiver.items())}), states {dict(states)}")
    return per_receiver


def check_receiver(
    world: World, result: Result, code: str, sent: list[tuple], moves: list[tuple[str, str, str]]
) -> None:
    """At a partner: one inbound notice per message id A sent there, all applied; each moved person's 附票 changed
    once (one address row with the new address, the current one), one J-LIS notice and one inbound notice each."""
    url = world.urls[code]
    inbound = query(url, "SELECT message_id::text, state, juminhyo_code FROM transfers_inboundnotice")
    per_message = Counter(m for m, _, _ in inbound)
    sent_ids = {n[0] for n in sent}
    label = {B: "B（渋谷区）", C: "C（中野区、503 を返す代理経由）"}[code]
    missing = len(sent_ids - set(per_message))
    extra = len(set(per_message) - sent_ids)
    dupes = sum(1 for v in per_message.values() if v > 1)
    ok = missing == 0 and extra == 0 and dupes == 0 and len(inbound) == len(sent_ids)
    result.add_check(
        f"{label}: 受信した通知は A が送った通知と 1 対 1",
        ok,
        f"受信 {len(inbound)} 件、A の送信 {len(sent_ids)} 件、欠け {missing}、余分 {extra}、重複 {dupes}",
    )
    states = Counter(s for _, s, _ in inbound)
    result.add_check(f"{label}: すべて自動反映済", states.get("applied", 0) == len(inbound), str(dict(states)))
    mine = [(person, address) for person, partner, address in moves if partner == code]
    codes = [p for p, _ in mine]
    rows = query(
        url,
        "SELECT m.code, count(a.id) FILTER (WHERE a.address = m.address), "
        "coalesce(bool_or(a.is_current AND a.address = m.address), false) "
        "FROM unnest(%s::text[], %s::text[]) AS m(code, address) "
        "LEFT JOIN koseki_fuhyo_fuhyoentry e ON e.juminhyo_code = m.code AND e.status = 'current' "
        "LEFT JOIN koseki_fuhyo_fuhyoaddress a ON a.entry_id = e.id GROUP BY m.code",
        (codes, [a for _, a in mine]),
    )
    rows_once = sum(1 for _, n, current in rows if n == 1 and current)
    rows_twice = sum(1 for _, n, _ in rows if n > 1)
    rows_none = sum(1 for _, n, _ in rows if n == 0)
    result.add_check(
        f"{label}: 附票の住所は一人に一度だけ新住所で記載（現住所）",
        rows_once == len(mine),
        f"一度 {rows_once} 人、二度以上 {rows_twice} 人、なし {rows_none} 人（移動 {len(mine)} 人）",
    )
    jlis = dict(
        query(
            url,
            "SELECT juminhyo_code, count(*) FROM transfers_outboundnotice WHERE kind = 'jlis_fuhyo' "
            "AND juminhyo_code = ANY(%s) GROUP BY 1",
            (codes,),
        )
    )
    per_person_in = Counter(p for _, _, p in inbound)
    jlis_once = sum(1 for p in codes if jlis.get(p) == 1)
    inbound_once = sum(1 for p in codes if per_person_in.get(p) == 1)
    result.add_check(
        f"{label}: J-LIS への通知と受信した通知は一人に 1 件ずつ（二重の反映なし）",
        jlis_once == len(codes) and inbound_once == len(codes),
        f"J-LIS 通知 1 件 {jlis_once} 人、受信 1 件 {inbound_once} 人（移動 {len(codes)} 人）",
    )
    log(
        f"{code}: {len(inbound)} inbound ({dict(states)}), 附票 rows once {rows_once}/{len(mine)}, "
        f"J-LIS once {jlis_once}"
    )


def report(
    world: World,
    result: Result,
    faults: FaultLog,
    moments: dict[str, float],
    sent: dict[str, list[tuple]],
    changes: tuple[int, int, list[str]],
) -> None:
    args = world.args
    made, failed, problems = changes
    result.add_check(
        "A の変更はすべて成功",
        failed == 0 and not problems,
        f"{made} 件成功、{failed} 件失敗" + ("; " + " / ".join(problems[:3]) if problems else ""),
    )
    notices = [n for code in (B, C) for n in sent[code]]
    acked = [n[5] for n in notices if n[5] is not None]
    last_ack = max(acked) if acked else float("nan")
    first = min((n[4] for n in notices), default=float("nan"))
    last_fault = faults.last()
    deadline = deadline_after_faults(faults, args)
    lost = faults.last(REDIS_LOST)
    after_last = last_ack - last_fault.ended if last_fault else float("nan")
    budget = deadline - (last_fault.ended if last_fault else deadline)
    met = bool(acked) and last_ack <= deadline and len(acked) == len(notices)
    target = f"≤ {args.recover_within:g} s" + (
        f"（Redis が待ち行列を失った再起動の後 {args.recover_within_lost:g} s 以内）" if lost else ""
    )
    result.add_target("最後の障害の終わりから最後の受領確認まで", target, round(after_last, 1), "s", met)
    result.add_check("受領確認は期限内（最後の障害から）", met, f"{after_last:.1f} s（許容 {budget:.0f} s）")
    if lost is not None:
        result.add_figure("待ち行列を失った Redis 再起動の後、最後の受領確認まで", round(last_ack - lost.ended, 1), "s")
    planned = Counter(
        fault_plan(args.worker_kills, args.redis_restarts, args.redis_restarts_lost, args.partner_offline > 0)
    )
    done = Counter(f.kind for f in faults.faults)
    result.add_check(
        "予定した障害をすべて注入", planned == done, ", ".join(f"{k} {done[k]}/{v}" for k, v in planned.items())
    )
    unexpected = world.unexpected
    result.add_check(
        "起動したプロセスが自分で終了しなかった（ワーカー・beat・gunicorn）",
        not unexpected,
        "; ".join(f"{u['process']} pid {u['pid']} 終了 {u['status']}: {u['reason'][:160]}" for u in unexpected)
        or "なし",
    )
    result.add_figure("自分で終了したプロセス（ハーネスが再起動）", len(unexpected), "回")
    counts = world.proxy.counts
    result.add_check(
        "C の前の代理は 503 を返した（それでも全件届いた: 上の確認）",
        counts.refused > 0 or counts.requests < world.args.c_every,
        f"要求 {counts.requests}、503 {counts.refused}、転送 {counts.forwarded}、"
        f"相手に届かず {counts.upstream_errors}、呼び手が切断 {counts.client_gone}",
    )
    result.add_figure("変更（通知）", len(notices), "件", size=len(notices))
    for code in (B, C):
        result.add_figure(f"{code} 宛て受領確認済", sum(1 for n in sent[code] if n[5] is not None), "件")
    result.add_figure("最初の通知から最後の受領確認まで", round(last_ack - first, 1), "s")
    result.add_figure(
        "通知/秒（障害込み、端から端まで）", round(len(acked) / max(1e-9, last_ack - first), 2), "notices/s"
    )
    attempts = Counter(n[3] for n in notices)
    result.add_figure("試行回数の合計", sum(k * v for k, v in attempts.items()), "回")
    result.add_figure("試行回数の最大", max(attempts, default=0), "回")
    for code in (B, C):
        retried = sum(1 for n in sent[code] if n[3] > 1)
        result.add_figure(f"{code} 宛てで 2 回以上試行した通知", retried, "件")
    result.add_figure("C の代理: 要求", counts.requests, "件")
    result.add_figure("C の代理: 503 で断った要求", counts.refused, "件")
    for kind in (WORKER_KILL, REDIS_CLEAN, REDIS_LOST, PARTNER_OFFLINE):
        result.add_figure(f"障害: {kind}", done[kind], "回")
    if "writers_done" in moments:
        result.add_figure("書き込みの時間", round(moments["writers_done"] - moments["writers_started"], 1), "s")
    for fault in faults.faults:
        result.add_note(
            f"{fault.as_dict()['started_at']} {fault.kind}: {fault.detail}（{fault.ended - fault.started:.1f} s）"
        )
    result.add_note(f"C の代理: {world.proxy.plan.describe()}; B の停止は gunicorn を SIGKILL して同じポートで再起動")
    log(
        f"checked: {len(notices)} notices, {len(acked)} acknowledged; last fault → last ack {after_last:.1f} s "
        f"(allowed {budget:.0f} s); proxy {counts.requests} requests, {counts.refused} answered 503"
    )


def run(args: argparse.Namespace, result: Result) -> None:
    tmp = Path(args.work_dir or BASE_DIR / "var" / f"chaos-notices-{os.getpid()}").resolve()
    tmp.mkdir(parents=True, exist_ok=True)
    log(f"work folder {tmp}")
    faults = FaultLog()
    per_partner = {B: (args.changes + 1) // 2, C: args.changes // 2}
    with contextlib.ExitStack() as stack:
        redis = RedisServer(instances.free_port(), tmp / "redis")
        stack.enter_context(redis)
        log(f"own redis-server pid {redis.proc.pid} on port {redis.port}")
        names = stack.enter_context(
            instances.scratch_databases(("a", "b", "c"), tmp, args.database_url, prefix="chaos_notices")
        )
        urls = dict(zip((A, B, C), names, strict=True))
        base = instances.clean_env()
        env = {
            A: instances.instance_env(base, A, tmp / "a", urls[A], f"{redis.url}/0"),
            B: instances.instance_env(base, B, tmp / "b", urls[B], "filesystem://"),
            C: instances.instance_env(base, C, tmp / "c", urls[C], "filesystem://"),
        }
        ports = {B: instances.free_port(), C: instances.free_port()}
        proxy = FaultProxy(ports[C], FailurePlan(args.c_every, args.c_seed))
        stack.enter_context(proxy)
        world = World(tmp, urls, env, ports, redis, proxy, args)
        stack.callback(world.stop)
        endpoints = {
            B: f"http://127.0.0.1:{ports[B]}{instances.INBOUND_PATH}",
            C: f"{proxy.url}{instances.INBOUND_PATH}",
        }
        t = time.monotonic()
        log(f"preparing A, B, C ({2 * args.changes} shared persons at A) …")
        prepare(env[A], {B: env[B], C: env[C]}, endpoints, per_partner, args.prepare_timeout)
        result.add_figure("準備（移行・共通ダミー住民・鍵の交換）", round(time.monotonic() - t, 1), "s")
        moves = movable_persons(urls[A], per_partner)
        (tmp / "moves.json").write_text(json.dumps([[p, a] for p, _, a in moves], ensure_ascii=False), "utf-8")
        world.start_web(B)
        world.start_web(C)
        world.start_worker()
        world.start_beat()
        log(f"{args.writers} writers make {len(moves)} changes at A at {args.rate:g}/s …")
        moments = drive(world, result, faults, len(moves))
        for proc in world.writers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
        changes = writer_totals(tmp, args.writers)
        sent = check_sender(world, result, moves)
        for code in (B, C):
            check_receiver(world, result, code, sent[code], moves)
        report(world, result, faults, moments, sent, changes)
    pids = [p.pid for p in world.processes] + [w.pid for w in world.writers] + redis.pids
    alive = [pid for pid in pids if _exists(pid)]
    result.add_check("起動したプロセスはすべて停止", not alive, f"{len(pids)} 個起動、残り {alive or 0}")
    result.add_note(
        f"起動したプロセス {len(pids)} 個（ワーカー・beat・gunicorn・書き手・redis-server）、すべて pid で停止"
    )
    if result.ok and not args.keep_work_dir:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        log(f"logs kept in {tmp}")


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie of ours counts as gone: reap it if it is our child.
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].splitlines()[0].lower()
    except (OSError, IndexError):
        return ""


@contextlib.contextmanager
def terminate_cleanly() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C: the stack unwinds and everything started is stopped."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--changes", type=int, default=2000, help="changes at A, one notice each (half to B, half to C)")
    p.add_argument("--writers", type=int, default=4, help="processes making the changes")
    p.add_argument("--rate", type=float, default=8.0, help="changes per second, all writers together (0: no pause)")
    p.add_argument("--worker-kills", type=int, default=5, help="SIGKILLs of A's worker")
    p.add_argument("--redis-restarts", type=int, default=1, help="clean Redis restarts (the queue survives)")
    p.add_argument("--redis-restarts-lost", type=int, default=1, help="Redis restarts that lose the queue")
    p.add_argument("--redis-down", type=float, default=5.0, help="seconds Redis stays down at each restart")
    p.add_argument("--partner-offline", type=float, default=30.0, help="seconds B is offline (0: never)")
    p.add_argument("--c-every", type=int, default=5, help="C's proxy answers 503 to one request in this many")
    p.add_argument("--c-seed", type=int, help="seeded random 503s instead of every n-th request")
    p.add_argument("--fault-gap", type=float, default=3.0, help="at least this many seconds between two faults")
    p.add_argument("--recover-within", type=float, default=60.0, help="seconds from the last fault to the last ack")
    p.add_argument(
        "--recover-within-lost", type=float, default=180.0, help="the same after a restart that lost the queue"
    )
    p.add_argument("--grace", type=float, default=60.0, help="how long to keep waiting past that deadline")
    p.add_argument("--concurrency", type=int, default=4, help="A's Celery worker (prefork) processes")
    p.add_argument("--web-workers", type=int, default=2, help="gunicorn sync workers of B and C")
    p.add_argument(
        "--database-url",
        default=(
            os.environ.get("DATABASE_URL")
            if instances.is_postgres(os.environ.get("DATABASE_URL"))
            else "postgres://postgres@127.0.0.1:5432/postgres"
        ),
        help="the PostgreSQL server for the three scratch databases",
    )
    p.add_argument("--timeout", type=float, default=1800.0, help="the whole run at most (after preparing)")
    p.add_argument("--prepare-timeout", type=float, default=600.0)
    p.add_argument("--work-dir", type=Path, help="logs, keys and Redis files (default var/chaos-notices-<pid>)")
    p.add_argument("--keep-work-dir", action="store_true", help="keep the logs even when every check holds")
    p.add_argument("--json-out", type=Path, help="write the result (bench/result.py contract) here")
    p.add_argument("--machine-note", default="", help="a word about the machine, stored with the figures")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.changes < 2:
        parser().error("--changes must be at least 2")
    if not instances.is_postgres(args.database_url):
        parser().error("--database-url must name a PostgreSQL server")
    if not RedisServer.available():
        parser().error("redis-server is not installed")
    parameters = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "database_url"}
    result = Result(NAME, TITLE, parameters=parameters)
    result.machine["note"] = args.machine_note
    status = 0
    try:
        with terminate_cleanly():
            run(args, result)
    except KeyboardInterrupt:
        log("interrupted: everything started was stopped")
        result.add_check("最後まで実行", False, "中断されました")
        status = 130
    except Exception as exc:  # noqa: BLE001 - reported in the result, then the exit status says it
        log(f"could not run: {type(exc).__name__}: {exc}")
        result.add_check("最後まで実行", False, f"{type(exc).__name__}: {str(exc)[:500]}")
        status = 2
    result.write(args.json_out)
    print(result.markdown())
    if status:
        return status
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
