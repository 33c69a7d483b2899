"""Time `manage.py analyze_access_logs` over N access-log entries (default 10,000,000) on PostgreSQL, and show the
plans of the audit review's main queries on the same table.

    .venv/bin/python bench/analysis_bench.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    # --entries N  --days D (entries spread evenly over D days ending on --day)  --clerks C  --explain  --keep

A scratch database (analysisbench_<pid>) is created on the server the URL names, migrated, filled with dummy entries
by INSERT … SELECT over generate_series (no chain hashes are computed: the analysis does not read them; the secondary
indexes are dropped during the load and built again after it, then the table is analysed), the command is run as a
child process and timed (twice: the second run finds the same flags and stores nothing new), and the database is
dropped (--keep leaves it). The entries: time-ordered ids, evenly over every hour of the D days (so a third of them
fall at night: a heavy case for the after-hours finder), C clerks, 10 % searches naming 20 persons, 1 % denied, 0.1 %
grant uses, 0.05 % failed logins, 2 % transmission entries to three partners. Only dummy ids, no names.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CHUNK = 1_000_000
TABLE = "audit_auditlogentry"

INSERT = """
INSERT INTO audit_auditlogentry (occurred_at, category, action, outcome, user_id, username, remote_addr, session_hash,
                     request_id, method, path, subject_kind, subject_ids, conditions, prev_hash, entry_hash)
SELECT
    %(start)s::timestamptz + (k * %(step_us)s) * interval '1 microsecond',
    CASE WHEN k % 1000 = 0 THEN 'permission' WHEN k % 50 = 1 THEN 'transmission' ELSE 'access' END,
    CASE WHEN k % 1000 = 0 THEN 'use'
         WHEN k % 50 = 1 THEN CASE WHEN k % 400 = 1 THEN 'failed' ELSE 'sent' END
         WHEN k % 2000 = 2 THEN 'login_failed'
         WHEN k % 10 = 3 THEN 'views.search'
         ELSE 'views.resident_detail' END,
    CASE WHEN k % 1000 = 0 THEN 'done' WHEN k % 50 = 1 THEN 'done'
         WHEN k % 2000 = 2 OR k % 97 = 0 THEN 'denied' ELSE 'shown' END,
    NULL,
    CASE WHEN k % 50 = 1 THEN '' ELSE 'clerk' || lpad(((k * 7919) % %(clerks)s)::text, 4, '0') END,
    '10.0.0.1', '', '', 'GET', '/residents/',
    CASE WHEN k % 50 = 1 THEN 'notice' ELSE 'resident' END,
    CASE WHEN k % 50 = 1 OR k % 2000 = 2 THEN '[]'::jsonb
         WHEN k % 10 = 3 THEN to_jsonb(ARRAY[(k * 31) % 1000000, (k * 31 + 1) % 1000000, (k * 31 + 2) % 1000000,
              (k * 31 + 3) % 1000000, (k * 31 + 4) % 1000000, (k * 31 + 5) % 1000000, (k * 31 + 6) % 1000000,
              (k * 31 + 7) % 1000000, (k * 31 + 8) % 1000000, (k * 31 + 9) % 1000000, (k * 31 + 10) % 1000000,
              (k * 31 + 11) % 1000000, (k * 31 + 12) % 1000000, (k * 31 + 13) % 1000000, (k * 31 + 14) % 1000000,
              (k * 31 + 15) % 1000000, (k * 31 + 16) % 1000000, (k * 31 + 17) % 1000000, (k * 31 + 18) % 1000000,
              (k * 31 + 19) % 1000000])
         ELSE jsonb_build_array((k * 31) % 1000000) END,
    CASE WHEN k % 50 = 1 THEN jsonb_build_object('message_id', md5(k::text), 'kind', 'fuhyo_items',
              'partner', (ARRAY['131130', '131172', 'J-LIS'])[1 + k % 3])
         WHEN k % 1000 = 0 THEN '{"view": "views.resident_detail"}'::jsonb
         ELSE '{}'::jsonb END,
    md5((k - 1)::text) || md5((-(k - 1))::text),
    md5(k::text) || md5((-k)::text)
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS k
""".replace(" % ", " %% ")  # a modulo, not a parameter

# The review's main queries, as the screen builds them (audit.review), EXPLAINed in the scratch database.
EXPLAIN = """
import datetime as dt, json
from audit import review, selectors
day = dt.date.fromisoformat(DAY)
middle = review.Cursor.decode(MIDDLE)
cases = {
    "first page, no filter": review.ReviewFilter(),
    "by 職員ID": review.ReviewFilter(username="clerk0042"),
    "by screen, one day": review.ReviewFilter(action="views.search", date_from=day, date_to=day),
    "denied, one day": review.ReviewFilter(outcome="denied", date_from=day, date_to=day),
    "person (住民票 #123456)": review.ReviewFilter(person=selectors.PersonRecords(residents=(FakeResident(123456),))),
    "partner 131130 (transmission log)": review.ReviewFilter(partner="131130"),
}
out = {}
for name, flt in cases.items():
    qs = review.audit_entries(flt).order_by("-occurred_at", "-pk")[:51]
    out[name] = qs.explain(analyze=True, buffers=True)
qs = review.audit_entries(review.ReviewFilter()).filter(middle.q("occurred_at")).order_by("-occurred_at", "-pk")[:51]
out["a page in the middle of the table (keyset)"] = qs.explain(analyze=True, buffers=True)
print(json.dumps(out, ensure_ascii=False))
"""
FAKE_RESIDENT = "class FakeResident:\n    def __init__(self, pk):\n        self.pk = pk\n"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _conninfo(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_conninfo(_with_database(url, "postgres")), autocommit=True) as conn:
        conn.execute(sql)


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [PYTHON, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=True, text=True, capture_output=True
    )


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _start(first_day: dt.date) -> dt.datetime:
    return dt.datetime.combine(first_day, dt.time.min, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def _step_us(days: int, entries: int) -> int:
    return days * 86_400_000_000 // entries


@contextlib.contextmanager
def without_secondary_indexes(conn, say) -> Iterator[None]:
    """Drop the audit table's secondary indexes (not those of its constraints) for a bulk load, build them again
    after it, each build timed."""
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        (TABLE, TABLE),
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    yield
    for name, definition in indexes:
        began = time.monotonic()
        conn.execute(definition)
        say(f"  index {name} in {time.monotonic() - began:.1f} s")


def load(url: str, entries: int, first_day: dt.date, days: int, clerks: int, say) -> None:
    """Fill the table: drop the secondary indexes, insert in chunks, build the indexes again, analyse."""
    import psycopg

    start, step_us = _start(first_day), _step_us(days, entries)
    with psycopg.connect(_conninfo(url), autocommit=True) as conn, without_secondary_indexes(conn, say):
        for first in range(1, entries + 1, CHUNK):
            last = min(entries, first + CHUNK - 1)
            began = time.monotonic()
            conn.execute(
                INSERT,
                {"start": start, "step_us": step_us, "clerks": clerks, "first": first, "last": last},
            )
            say(f"  rows {first:,}–{last:,} in {time.monotonic() - began:.1f} s")
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), {entries})")
        conn.execute(f"VACUUM ANALYZE {TABLE}")


def timed(env: dict, url: str, *args: str) -> tuple[float, float, str]:
    """Wall time of the child process (Django's start included), the run's own time from its BatchRun record, and
    its summary line."""
    import psycopg

    began = time.monotonic()
    done = _manage(env, *args)
    wall = time.monotonic() - began
    with psycopg.connect(_conninfo(url)) as conn:
        (run_seconds,) = conn.execute(
            "SELECT extract(epoch FROM finished_at - started_at) FROM audit_batchrun ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return wall, float(run_seconds), done.stdout.strip().splitlines()[-1]


def run(args: argparse.Namespace) -> dict:
    scratch = f"analysisbench_{os.getpid()}"
    url = _with_database(args.database_url, scratch)
    env = dict(os.environ, DATABASE_URL=url)
    env.setdefault("DJANGO_ALLOW_DEV_SECRET", "true")  # a throwaway database: the development key is fine
    day = dt.date.fromisoformat(args.day)
    first_day = day - dt.timedelta(days=args.days - 1)
    say = print if not args.quiet else (lambda *_: None)
    _admin(args.database_url, f'CREATE DATABASE "{scratch}"')
    result: dict = {"database": scratch, "entries": args.entries, "days": args.days, "day": args.day}
    try:
        say(f"migrating {scratch}")
        _manage(env, "migrate", "-v0")
        began = time.monotonic()
        say(f"loading {args.entries:,} entries over {args.days} days ({first_day} – {day})")
        load(url, args.entries, first_day, args.days, args.clerks, say)
        result["load_seconds"] = round(time.monotonic() - began, 1)
        for run_name in ("first run", "second run (same day again)"):
            wall, seconds, summary = timed(env, url, "analyze_access_logs", "--date", args.day, "--no-progress")
            result[run_name] = {"wall_seconds": round(wall, 2), "run_seconds": round(seconds, 2), "summary": summary}
            say(f"{run_name}: {seconds:.2f} s in the run ({wall:.2f} s with the process start) — {summary}")
        if args.explain:
            half = args.entries // 2
            at = _start(first_day) + dt.timedelta(microseconds=half * _step_us(args.days, args.entries))
            middle = f"{(at - EPOCH) // dt.timedelta(microseconds=1)}.{half + 1}"
            code = FAKE_RESIDENT + f"DAY = {args.day!r}\nMIDDLE = {middle!r}\n" + EXPLAIN
            plans = json.loads(_manage(env, "shell", "-v0", "-c", code).stdout.strip().splitlines()[-1])
            result["explain"] = plans
            for name, plan in plans.items():
                say(f"\n--- {name}\n{plan}")
    finally:
        if not args.keep:
            _admin(args.database_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server (the scratch database goes there)")
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--day", default="2026-11-25", help="the day analysed (the last day of the period)")
    parser.add_argument("--clerks", type=int, default=300)
    parser.add_argument("--explain", action="store_true", help="also EXPLAIN ANALYZE the review's main queries")
    parser.add_argument("--keep", action="store_true", help="leave the scratch database")
    parser.add_argument("--json", action="store_true", help="print the result as JSON at the end")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
