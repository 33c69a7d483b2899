"""Notice throughput: ward A makes N changes that each raise one notice to ward B; how fast are they delivered?

    .venv/bin/python bench/notice_bench.py [--notices 10000] [--writers 4] [--concurrency 4] [--web-workers 2]
        [--database-url postgres://postgres@127.0.0.1:5432/postgres] [--redis redis://127.0.0.1:6379/0]
        [--redis-dbs 9,10] [--timeout 1800] [--output bench/results]

On the PostgreSQL server of --database-url (default DATABASE_URL) it creates two scratch databases (dropped at the
end), on the Redis server of --redis (default REDIS_URL, CELERY_BROKER_URL or 127.0.0.1:6379) it uses two database
numbers (--redis-dbs, emptied before and after; no other number is touched). Then, as real processes on loopback
(devtools/instances.py): ward A (新宿区 131041) with a Celery worker (prefork, --concurrency) and beat (the sweeper),
ward B (渋谷区 131130) as gunicorn (--web-workers sync workers), the two seeded with 2·N shared dummy persons
(seed_dummy --cross-ward: N live in A with their 本籍 in B), keyed and registered with each other.

--writers processes then make N 転居 at A (registry.services.move_within, one transaction each, as a clerk) while
the workers run; each raises one 戸籍の附票記載事項通知 to B, which B stores and applies to its 附票. Reported:
wall time from the first notice written to the last acknowledged, notices/s, p50/p95/p99 of
(acknowledged_at − created_at), the writers' own rate, B's receiving span, attempts, the CPU time of each process
group, and a reference measured in the same run on the same broker: an empty Celery task (same prefork concurrency,
acks_late, prefetch 1) — its sequential round trip and its throughput. The figures go to
<output>/notices-<date>.json and are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
A, B = "131041", "131130"
NOOP_ENV = "NOTICE_BENCH_NOOP_BROKER"
SERVERS = ("postgres", "redis-server")


# --- Figures --------------------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of `values`; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summarize(values: Sequence[float]) -> dict[str, float]:
    """count, mean, p50, p95, p99 and max of `values` (NaN for an empty list, count 0)."""
    if not values:
        return {"count": 0, "mean": math.nan, "p50": math.nan, "p95": math.nan, "p99": math.nan, "max": math.nan}
    return {
        "count": len(values),
        "mean": sum(values) / len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values),
    }


# --- The reference: an empty Celery task on the same broker ------------------------------------------------------


def _make_noop_app():
    from celery import Celery

    url = os.environ[NOOP_ENV]
    app = Celery("notice_bench_noop", broker=url, backend=url)
    app.conf.update(
        task_default_queue="notice-bench-noop",
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        result_expires=600,
        broker_connection_retry_on_startup=True,
    )

    @app.task(name="notice_bench.noop")
    def noop() -> None:
        return None

    return app


noop_app = _make_noop_app() if os.environ.get(NOOP_ENV) else None


def measure_empty_task(broker: str, concurrency: int, tmp: Path, sequential: int = 200, burst: int = 2000) -> dict:
    """Round trip of an empty task (send → run by a prefork worker → result back), one at a time, then `burst`
    tasks at once: latency percentiles and tasks/s."""
    from devtools import instances

    env = dict(os.environ, **{NOOP_ENV: broker}, PYTHONPATH=str(BENCH_DIR), PYTHONUNBUFFERED="1")
    argv = [sys.executable, "-m", "celery", "--app=notice_bench:noop_app", "worker", "--pool=prefork"]
    argv += [f"--concurrency={concurrency}", "--loglevel=WARNING", "--without-mingle", "--without-gossip"]
    worker = instances.Process("noop-worker", argv, env, tmp / "noop-worker.log")
    os.environ[NOOP_ENV] = broker
    app = _make_noop_app()
    noop = app.tasks["notice_bench.noop"]
    with instances.running(worker):
        noop.delay().get(timeout=120)  # the worker is up
        for _ in range(20):
            noop.delay().get(timeout=30)
        latencies = []
        for _ in range(sequential):
            started = time.perf_counter()
            noop.delay().get(timeout=30)
            latencies.append(time.perf_counter() - started)
        started = time.perf_counter()
        results = [noop.delay() for _ in range(burst)]
        for result in results:
            result.get(timeout=120)
        burst_seconds = time.perf_counter() - started
    app.close()
    return {
        "round_trip_s": summarize(latencies),
        "burst": burst,
        "burst_seconds": burst_seconds,
        "tasks_per_s": burst / burst_seconds,
    }


# --- Writers: the changes at A ------------------------------------------------------------------------------------

WRITER_PY = """
import time
from django.contrib.auth import get_user_model
from django.utils import timezone
from common.context import audit_context
from registry import services
from registry.choices import ResidentStatus
from registry.models import Resident
from registry.services.entries import NewHousehold

index, writers, limit = {index}, {writers}, {limit}
clerk, _ = get_user_model().objects.get_or_create(username="bench-clerk-%d" % index, defaults={{"last_name": "試験"}})
codes = list(
    Resident.objects.filter(status=ResidentStatus.CURRENT, honseki_municipality_id="{partner}")
    .order_by("pk").values_list("juminhyo_code", flat=True)[:limit]
)[index::writers]
today = timezone.localdate()
first = None
with audit_context(clerk.pk, "bench"):
    for i, code in enumerate(codes):
        resident = Resident.objects.get(juminhyo_code=code, status=ResidentStatus.CURRENT)
        services.move_within(
            [resident], change_date=today, notified_on=today,
            new_address=NewHousehold(address="西新宿四丁目%d番%d号" % (index + 1, i + 1)),
        )
        first = first or time.time()
print("BENCH-WRITER", len(codes), first, time.time(), flush=True)
"""


def start_writers(env: dict[str, str], writers: int, limit: int, tmp: Path) -> list[subprocess.Popen]:
    procs = []
    for index in range(writers):
        script = WRITER_PY.format(index=index, writers=writers, limit=limit, partner=B)
        log = (tmp / f"writer-{index}.log").open("wb")
        procs.append(
            subprocess.Popen(  # noqa: S603 - fixed argv
                [sys.executable, "manage.py", "shell", "--no-imports", "-v", "0", "-c", script],
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        log.close()
    return procs


# --- Reading the two databases ------------------------------------------------------------------------------------


def _query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def outbox_states(url: str) -> dict[str, int]:
    return dict(
        _query(url, "SELECT state, count(*) FROM transfers_outboundnotice WHERE receiver = %s GROUP BY 1", (B,))
    )


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of the live processes of process group `pgid` (Linux /proc), plus what their
    waited-for children used."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state ppid pgrp ...
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / tick


def named_cpu_seconds(names: Sequence[str]) -> dict[str, float]:
    """User + system CPU seconds of the live processes with these command names (e.g. the database server's
    backends), read from /proc; per name."""
    tick = os.sysconf("SC_CLK_TCK")
    totals = dict.fromkeys(names, 0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        for wanted in names:
            if name.startswith(wanted):
                fields = raw.rsplit(")", 1)[1].split()
                totals[wanted] += int(fields[11]) + int(fields[12])
    return {name: ticks / tick for name, ticks in totals.items()}


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


# --- The run ------------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(BASE_DIR))
    from devtools import instances

    n = args.notices
    tmp = Path(args.work_dir or BASE_DIR / "var" / f"notice-bench-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    redis_server = urlunsplit(urlsplit(args.redis)._replace(path="/0"))
    numbers = [int(v) for v in args.redis_dbs.split(",")]
    result: dict = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "notices": n,
        "writers": args.writers,
        "worker_concurrency": args.concurrency,
        "web_workers": args.web_workers,
        "machine": {"cpus": os.cpu_count(), "note": args.machine_note},
    }
    with contextlib.ExitStack() as stack:
        urls = stack.enter_context(instances.scratch_databases(("a", "b"), tmp, args.database_url, prefix="bench"))
        brokers = stack.enter_context(instances.redis_databases(redis_server, 2, prefer=numbers))
        if [int(urlsplit(u).path.strip("/")) for u in brokers] != numbers:
            raise SystemExit(f"cannot use Redis databases {numbers}: {brokers}")
        print(f"databases {urls}, brokers {brokers}", flush=True)

        print("reference: an empty Celery task on A's broker …", flush=True)
        result["empty_task"] = measure_empty_task(brokers[0], args.concurrency, tmp)
        import redis

        redis.Redis.from_url(brokers[0]).flushdb()

        base = instances.clean_env()
        env_a = instances.instance_env(base, A, tmp / "a", urls[0], brokers[0])
        env_b = instances.instance_env(base, B, tmp / "b", urls[1], brokers[1])
        port_b = instances.free_port()
        started = time.monotonic()
        print(f"preparing both wards ({2 * n} shared persons) …", flush=True)
        instances.prepare_pair(env_a, env_b, instances.free_port(), port_b, cross_count=2 * n)
        result["prepare_seconds"] = time.monotonic() - started

        web = instances.gunicorn(env_b, port_b, tmp / "web-b.log", workers=args.web_workers, name="web-b")
        worker = instances.celery_worker(
            env_a, tmp / "worker-a.log", name="worker-a", pool="prefork", concurrency=args.concurrency
        )
        beat = instances.celery_beat(env_a, tmp / "beat-a.log", name="beat-a")
        stack.enter_context(instances.running(web, worker, beat))
        instances.wait_for_port(port_b, 60, web)
        time.sleep(3)  # the worker connects to the broker

        print(f"{args.writers} writers make {n} changes at A …", flush=True)
        busy0 = machine_busy()
        result["load_average_at_start"] = os.getloadavg()
        servers0 = named_cpu_seconds(SERVERS)
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        writers = start_writers(env_a, args.writers, n, tmp)
        deadline = t0 + args.timeout
        last = ""
        while True:
            states = outbox_states(urls[0])
            line = " ".join(f"{k}={v}" for k, v in sorted(states.items()))
            if line != last:
                print(f"  {time.monotonic() - t0:7.1f} s  {line}", flush=True)
                last = line
            writing = any(p.poll() is None for p in writers)
            if not writing and states.get("acknowledged", 0) >= n:
                break
            if time.monotonic() > deadline:
                print("timeout", flush=True)
                break
            time.sleep(1)
        for p in writers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=30)
        busy1 = machine_busy()
        result["load_average_at_end"] = os.getloadavg()
        children1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the writers, reaped above
        servers1 = named_cpu_seconds(SERVERS)
        result["cpu_seconds"] = {p.name: group_cpu_seconds(p.pid) for p in (worker, web, beat)}
        result["cpu_seconds"]["writers"] = (children1.ru_utime - children0.ru_utime) + (
            children1.ru_stime - children0.ru_stime
        )
        for name in SERVERS:  # backends that lived through the run; an approximation from below
            result["cpu_seconds"][name] = servers1[name] - servers0[name]
        result["machine_busy"] = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])
        writer_lines = []
        for index in range(args.writers):
            text = (tmp / f"writer-{index}.log").read_text(encoding="utf-8", errors="replace")
            writer_lines += [line.split()[1:] for line in text.splitlines() if line.startswith("BENCH-WRITER")]
            if not any(line.startswith("BENCH-WRITER") for line in text.splitlines()):
                print(f"writer {index} failed:\n{text[-3000:]}", flush=True)
        result["writers_done"] = len(writer_lines)

        rows = _query(
            urls[0],
            "SELECT extract(epoch FROM created_at), extract(epoch FROM acknowledged_at), attempts, state "
            "FROM transfers_outboundnotice WHERE receiver = %s",
            (B,),
        )
        received = _query(
            urls[1],
            "SELECT extract(epoch FROM min(received_at)), extract(epoch FROM max(received_at)), count(*) "
            "FROM transfers_inboundnotice",
        )[0]
        inbound_states = dict(_query(urls[1], "SELECT state, count(*) FROM transfers_inboundnotice GROUP BY 1"))
        created = [float(r[0]) for r in rows]
        acked = [(float(r[0]), float(r[1])) for r in rows if r[1] is not None]
        attempts: dict[int, int] = {}
        for r in rows:
            attempts[r[2]] = attempts.get(r[2], 0) + 1
        first, last_created = min(created), max(created)
        last_ack = max(a for _, a in acked) if acked else math.nan
        wall = last_ack - first
        result.update(
            {
                "written": len(rows),
                "acknowledged": len(acked),
                "states": outbox_states(urls[0]),
                "wall_seconds": wall,
                "notices_per_s": len(acked) / wall if acked else 0.0,
                "latency_s": summarize([a - c for c, a in acked]),
                "writing_seconds": last_created - first,
                "writes_per_s": len(rows) / max(1e-9, last_created - first),
                "received_at_b": {
                    "count": received[2],
                    "span_s": float(received[1] - received[0]) if received[2] else None,
                    "states": inbound_states,
                },
                "attempts": {str(k): v for k, v in sorted(attempts.items())},
            }
        )
    return result


def markdown(result: dict) -> str:
    lat, ref = result["latency_s"], result["empty_task"]
    rt = ref["round_trip_s"]
    rows = [
        ("notices written / acknowledged", f"{result['written']:,} / {result['acknowledged']:,}"),
        ("wall time, first notice written → last acknowledged", f"{result['wall_seconds']:.1f} s"),
        ("**notices/s** (end to end)", f"**{result['notices_per_s']:.1f}**"),
        ("changes/s at A (writers alone)", f"{result['writes_per_s']:.1f}"),
        (
            "latency acknowledged_at − created_at p50 / p95 / p99",
            f"{lat['p50']:.2f} / {lat['p95']:.2f} / {lat['p99']:.2f} s",
        ),
        (
            "empty Celery task: round trip p50 / p95 / p99",
            f"{rt['p50'] * 1e3:.1f} / {rt['p95'] * 1e3:.1f} / {rt['p99'] * 1e3:.1f} ms",
        ),
        ("empty Celery task: throughput", f"{ref['tasks_per_s']:.0f} tasks/s ({ref['burst']} tasks)"),
        ("attempts per notice", ", ".join(f"{k}: {v}" for k, v in result["attempts"].items())),
        *(
            (f"CPU seconds: {name}", f"{seconds:.0f} s ({seconds / max(1, result['written']) * 1e3:.1f} ms a notice)")
            for name, seconds in result["cpu_seconds"].items()
        ),
        ("machine busy during the run", f"{result['machine_busy'] * 100:.0f} %"),
        (
            "load average (1 min) at start / end",
            f"{result['load_average_at_start'][0]:.1f} / {result['load_average_at_end'][0]:.1f}",
        ),
    ]
    head = (
        f"{result['notices']:,} notices, {result['writers']} writers, worker prefork×{result['worker_concurrency']}, "
        f"B gunicorn {result['web_workers']} sync workers, {result['machine']['cpus']} CPUs"
    )
    return "\n".join([head, "", "| | |", "|---|---:|", *(f"| {a} | {b} |" for a, b in rows)])


def contract(result: dict) -> dict:
    """The run in the form every benchmark reports (bench/result.py), for `make bench`."""
    sys.path.insert(0, str(BASE_DIR))
    from bench.result import Result

    n = result["notices"]
    out = Result("notices", "通知の送受信（変更から署名付き受領確認まで）", parameters={"notices": n})
    out.machine.update(result.get("machine", {}))
    lat, ref = result["latency_s"], result["empty_task"]
    out.add_figure("通知／秒（最初の書き込み → 最後の受領確認）", round(result["notices_per_s"], 1), "notices/s", n)
    out.add_figure("変更／秒（A の書き手）", round(result["writes_per_s"], 1), "changes/s", n)
    for q in ("p50", "p99"):
        out.add_figure(f"遅延 {q}（受領確認 − 作成）", round(lat[q], 2), "s", n)
    cpu = sum(result["cpu_seconds"].values())
    out.add_figure("CPU 時間／通知（全プロセス）", round(cpu / max(1, result["written"]) * 1e3, 1), "ms", n)
    round_trip_ms = round(ref["round_trip_s"]["p50"] * 1e3, 2)
    out.add_reference("空の Celery タスクの往復 p50（同じブローカー）", round_trip_ms, "ms")
    out.add_reference("空の Celery タスクの処理量", round(ref["tasks_per_s"]), "tasks/s")
    out.add_ratio("通知／秒 ÷ 空タスク／秒", round(result["notices_per_s"] / max(1e-9, ref["tasks_per_s"]), 3))
    rate = result["notices_per_s"]
    out.add_target(f"通知の処理量（{n:,} 件）", "≥ 300 notices/s", round(rate, 1), "notices/s", rate >= 300)
    once = result["acknowledged"] == n and result["received_at_b"]["count"] == n
    out.add_check(
        "全件が受領確認され、受信側に一度ずつ届いた",
        once,
        f"書き込み {result['written']}、受領確認 {result['acknowledged']}、B の受信 {result['received_at_b']['count']}",
    )
    out.add_note(f"機械の使用率 {result['machine_busy'] * 100:.0f} %（実行中）")
    data = out.as_dict()
    data["wall_s"] = round(result["wall_seconds"], 1)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=10_000)
    parser.add_argument("--writers", type=int, default=4, help="parallel processes making the changes at A")
    parser.add_argument("--concurrency", type=int, default=4, help="A's Celery worker (prefork) processes")
    parser.add_argument("--web-workers", type=int, default=2, help="B's gunicorn sync workers")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server (the scratch databases are made there)",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0",
    )
    parser.add_argument("--redis-dbs", default="9,10", help="the two Redis database numbers to use (emptied)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the acknowledgements")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results")
    parser.add_argument("--work-dir", type=Path, help="logs and keys (default var/notice-bench-<pid>)")
    parser.add_argument("--machine-note", default="", help="a word about the machine, stored with the figures")
    parser.add_argument("--json-out", type=Path, help="also write the result in the form of bench/result.py here")
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must name a PostgreSQL server")
    result = run(args)
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"notices-{dt.datetime.now().astimezone().date().isoformat()}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(contract(result), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\n{markdown(result)}\n\nwritten to {path}")
    return 0 if result["acknowledged"] == args.notices else 1


if __name__ == "__main__":
    sys.exit(main())
