"""The nightly batch at scale: analyze_access_logs and verify_audit_chain over ten million access-log entries, and
jlis_bulk_export of every 附票 person of a seeded ward — time and peak memory of each command.

    .venv/bin/python bench/batch_bench.py --database-url postgres://postgres@127.0.0.1:5432/postgres \
        [--entries 10000000] [--export-database NAME | --residents 100000] [--json-out F]

Audit entries: a scratch database (`batchbench_<pid>`) is migrated and filled with `--entries` dummy entries over
`--days` days, written by COPY with a VALID hash chain in the lanes of audit/chain.py (the hashes are computed here,
in id order per lane, with the chain's own `content_hash` from audit/chain_hash.py), with the secondary indexes
dropped during the load and built again after it. The mix is that of bench/analysis_bench.py (searches naming 20
persons, denials, grant uses, failed logins, transmissions). Then `analyze_access_logs --date D` and
`verify_audit_chain --skip-seals` (which must find the chain intact) run as child processes; their wall time and
peak resident set size (`os.wait4`) are reported.

Export: `jlis_bulk_export` on a seeded database — `--export-database NAME` (on the same server, e.g. one kept by
`seed_dummy_bench.py --scratch --keep`) or a scratch one seeded here with `--residents N` — with keys made for the
run in a temporary directory (the ward's, and J-LIS's registered as a partner). The file is verified afterwards with
J-LIS's private key (`jlis_bulk_export --verify`), which decrypts it and counts the persons.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))

from audit.chain_hash import content_hash  # noqa: E402 - the chain's own hash (and fields), without Django
from bench.analysis_bench import (  # noqa: E402
    _admin,
    _conninfo,
    _step_us,
    _with_database,
    without_secondary_indexes,
)
from bench.result import Result  # noqa: E402

PYTHON = sys.executable
TABLE = "audit_auditlogentry"
LANES = 8
GENESIS = "0" * 64
COLUMNS = (
    "occurred_at, category, action, outcome, user_id, username, remote_addr, session_hash, request_id, method, path, "
    "subject_kind, subject_ids, conditions, lane, prev_hash, entry_hash"
)
PARTNERS = ("131130", "131172", "J-LIS")


def entry_values(k: int, start: dt.datetime, step_us: int, clerks: int) -> dict:
    """The k-th dummy entry (k ≥ 1), as `chain._values` reads it back from the database (times in UTC)."""
    transmission = k % 50 == 1
    if k % 1000 == 0:
        category, action, outcome = "permission", "use", "done"
    elif transmission:
        category, action, outcome = "transmission", ("failed" if k % 400 == 1 else "sent"), "done"
    else:
        category = "access"
        if k % 2000 == 2:
            action = "login_failed"
        elif k % 10 == 3:
            action = "views.search"
        else:
            action = "views.resident_detail"
        outcome = "denied" if k % 2000 == 2 or k % 97 == 0 else "shown"
    if transmission or k % 2000 == 2:
        subjects: list[int] = []
    elif k % 10 == 3:
        subjects = [(k * 31 + i) % 1_000_000 for i in range(20)]
    else:
        subjects = [(k * 31) % 1_000_000]
    if transmission:
        conditions: dict = {
            "message_id": hashlib.md5(str(k).encode()).hexdigest(),  # noqa: S324 - dummy ids, not security
            "kind": "fuhyo_items",
            "partner": PARTNERS[k % 3],
        }
    elif k % 1000 == 0:
        conditions = {"view": "views.resident_detail"}
    else:
        conditions = {}
    occurred = (start + dt.timedelta(microseconds=k * step_us)).astimezone(dt.UTC)
    return {
        "occurred_at": occurred.isoformat(timespec="microseconds"),
        "category": category,
        "action": action,
        "outcome": outcome,
        "user_id": None,
        "username": "" if transmission else f"clerk{(k * 7919) % clerks:04d}",
        "remote_addr": "10.0.0.1",
        "session_hash": "",
        "request_id": "",
        "method": "GET",
        "path": "/residents/",
        "subject_kind": "notice" if transmission else "resident",
        "subject_ids": subjects,
        "conditions": conditions,
    }


def copy_lines(first: int, last: int, start: dt.datetime, step_us: int, clerks: int, heads: dict[int, str]) -> str:
    """COPY text rows for entries first..last, chaining each lane from `heads` (updated in place)."""
    out = io.StringIO()
    for k in range(first, last + 1):
        values = entry_values(k, start, step_us, clerks)
        lane = k % LANES
        values["prev_hash"] = heads.get(lane, GENESIS)
        entry_hash = content_hash(values)
        heads[lane] = entry_hash
        subject_ids = json.dumps(values["subject_ids"], separators=(",", ":"))
        conditions = json.dumps(values["conditions"], separators=(",", ":"), ensure_ascii=False)
        out.write(
            f"{values['occurred_at']}\t{values['category']}\t{values['action']}\t{values['outcome']}\t\\N\t"
            f"{values['username']}\t10.0.0.1\t\t\tGET\t/residents/\t{values['subject_kind']}\t{subject_ids}\t"
            f"{conditions}\t{lane}\t{values['prev_hash']}\t{entry_hash}\n"
        )
    return out.getvalue()


def load_chain(url: str, entries: int, first_day: dt.date, days: int, clerks: int, say) -> dict[int, tuple[int, str]]:
    """Fill the table with a valid chain; returns each lane's last (id, hash) and moves the lanes' ends there."""
    import psycopg

    start = dt.datetime.combine(first_day, dt.time.min, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    step_us = _step_us(days, entries)
    heads: dict[int, str] = {}
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        with without_secondary_indexes(conn, say):
            chunk = 200_000
            began = time.monotonic()
            for first in range(1, entries + 1, chunk):
                last = min(entries, first + chunk - 1)
                data = copy_lines(first, last, start, step_us, clerks, heads)
                with conn.cursor() as cursor, cursor.copy(f"COPY {TABLE} ({COLUMNS}) FROM STDIN") as copy:
                    copy.write(data)
                if last % 1_000_000 == 0 or last == entries:
                    say(f"  {last:,} entries in {time.monotonic() - began:.0f} s")
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), {entries})")
        # The ids are 1..N in k order, so lane L's last entry is the largest k ≤ N with k % LANES == L.
        ends: dict[int, tuple[int, str]] = {}
        for lane, last_hash in heads.items():
            last_id = max(k for k in range(max(1, entries - LANES + 1), entries + 1) if k % LANES == lane)
            ends[lane] = (last_id, last_hash)
            conn.execute(
                "INSERT INTO audit_auditchainhead (id, last_entry_id, last_hash) VALUES (%s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET last_entry_id = EXCLUDED.last_entry_id, last_hash = EXCLUDED.last_hash",
                (lane + 1, last_id, last_hash),
            )
        conn.execute(f"VACUUM ANALYZE {TABLE}")
    return ends


def measured(env: dict, *args: str, timeout: float = 7200) -> dict:
    """Run `manage.py <args>` as a child: wall time, peak RSS (its own, from wait4), CPU, exit code, last line."""
    began = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen(  # noqa: S603 - our own manage.py with fixed arguments
            [PYTHON, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, text=True, stdout=out, stderr=subprocess.STDOUT
        )
        deadline = began + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                child.kill()
                pid, status, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.2)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        lines = [line for line in out.read().splitlines() if line.strip()]
    return {
        "command": args[0],
        "wall_s": round(time.monotonic() - began, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "exit_code": child.returncode,
        "last_line": lines[-1] if lines else "",
        "output": lines[-20:],
    }


def _env(url: str, **extra: str) -> dict:
    env = dict(os.environ, DATABASE_URL=url, **extra)
    env.setdefault("DJANGO_ALLOW_DEV_SECRET", "true")  # throwaway databases: the development key is fine
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    return env


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [PYTHON, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, text=True, capture_output=True, timeout=7200
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout


def audit_part(args: argparse.Namespace, result: Result, say) -> None:
    scratch = f"batchbench_{os.getpid()}"
    url = _with_database(args.database_url, scratch)
    env = _env(url)
    day = dt.date.fromisoformat(args.day)
    first_day = day - dt.timedelta(days=args.days - 1)
    _admin(args.database_url, f'CREATE DATABASE "{scratch}"')
    try:
        _manage(env, "migrate", "-v0")
        say(f"loading {args.entries:,} audit entries with a valid chain in {LANES} lanes")
        began = time.monotonic()
        load_chain(url, args.entries, first_day, args.days, args.clerks, say)
        load_s = time.monotonic() - began
        result.add_figure("監査ログの投入（COPY・ハッシュ計算・索引再作成）", round(load_s, 1), "s", args.entries)
        analysed = measured(env, "analyze_access_logs", "--date", args.day, "--no-progress")
        say(f"analyze_access_logs: {analysed['wall_s']} s, {analysed['peak_rss_mb']} MB — {analysed['last_line']}")
        result.add_figure("analyze_access_logs（1 日分）の時間", analysed["wall_s"], "s", args.entries)
        result.add_figure("analyze_access_logs のピークメモリ", analysed["peak_rss_mb"], "MB", args.entries)
        result.add_check("analyze_access_logs が正常終了", analysed["exit_code"] == 0, analysed["last_line"])
        verified = measured(env, "verify_audit_chain", "--skip-seals", "--no-progress")
        say(f"verify_audit_chain: {verified['wall_s']} s, {verified['peak_rss_mb']} MB — {verified['last_line']}")
        result.add_figure("verify_audit_chain（全件）の時間", verified["wall_s"], "s", args.entries)
        result.add_figure("verify_audit_chain のピークメモリ", verified["peak_rss_mb"], "MB", args.entries)
        result.add_figure(
            "verify_audit_chain の速さ", round(args.entries / max(verified["wall_s"], 0.001)), "entries/s", args.entries
        )
        result.add_check(
            "verify_audit_chain がチェーンを完全と判定（終了コード 0）",
            verified["exit_code"] == 0,
            verified["last_line"],
        )
    finally:
        if not args.keep:
            _admin(args.database_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def export_part(args: argparse.Namespace, result: Result, say) -> None:
    own = not args.export_database
    name = args.export_database or f"batchbench_export_{os.getpid()}"
    url = _with_database(args.database_url, name)
    if own:
        _admin(args.database_url, f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="batchbench-keys-") as tmp:
            keys, jlis_keys, output = Path(tmp) / "ward", Path(tmp) / "jlis", Path(tmp) / "export.wenc"
            env = _env(url, TRANSFERS_KEY_DIR=str(keys), JLIS_EXPORT_DIR=tmp, AUDIT_EXPORT_DIR=tmp)
            _manage(env, "migrate", "-v0")
            if own:
                say(f"seeding {args.residents:,} residents into {name}")
                _manage(env, "seed_dummy", "--residents", str(args.residents), "--seed", "1", "--no-progress")
            _manage(env, "generate_ward_keys", "--if-missing")
            _manage(env, "run_jlis_simulator", "--init-only", "--key-dir", str(jlis_keys))
            _manage(env, "register_partner", str(jlis_keys / "public.json"), "--endpoint", "http://127.0.0.1:9/")
            persons = int(
                _manage(
                    env,
                    "shell",
                    "-v0",
                    "-c",
                    "from transfers.bulk_export import current_entries; print(current_entries().count())",
                ).split()[-1]
            )
            say(f"jlis_bulk_export of {persons:,} 附票 persons")
            exported = measured(env, "jlis_bulk_export", "--output", str(output), "--no-progress")
            say(f"jlis_bulk_export: {exported['wall_s']} s, {exported['peak_rss_mb']} MB — {exported['last_line']}")
            result.add_figure("jlis_bulk_export の時間", exported["wall_s"], "s", persons)
            result.add_figure("jlis_bulk_export のピークメモリ", exported["peak_rss_mb"], "MB", persons)
            result.add_figure(
                "jlis_bulk_export の速さ", round(persons / max(exported["wall_s"], 0.001)), "persons/s", persons
            )
            size_mb = output.stat().st_size / 1024 / 1024 if output.exists() else 0.0
            result.add_figure("書き出したファイル（暗号化後）", round(size_mb, 1), "MB", persons)
            result.add_check("jlis_bulk_export が正常終了", exported["exit_code"] == 0, exported["last_line"])
            if output.exists():
                checked = measured(env, "jlis_bulk_export", "--verify", str(output), "--jlis-key-dir", str(jlis_keys))
                said = " ".join(checked["output"])
                result.add_check(
                    "書き出したファイルを J-LIS の鍵で復号し、件数が在籍中の附票と一致",
                    checked["exit_code"] == 0 and f": {persons} 件" in said,
                    checked["last_line"],
                )
    finally:
        if own and not args.keep:
            _admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""), help="a PostgreSQL server")
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--day", default="2026-11-25", help="the day analysed (the last day of the period)")
    parser.add_argument("--clerks", type=int, default=300)
    parser.add_argument("--export-database", default="", help="a seeded database on the same server for the export")
    parser.add_argument("--residents", type=int, default=100_000, help="without --export-database: seed this many")
    parser.add_argument("--skip-audit", action="store_true")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--keep", action="store_true", help="leave the scratch databases")
    parser.add_argument("--json-out", default="")
    parser.add_argument("--machine-note", default="")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url (or DATABASE_URL) must name a PostgreSQL server")

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    result = Result(
        "batch",
        "夜間バッチ（アクセスログ分析・監査チェーン検証・J-LIS 一括提供）",
        parameters={
            "entries": args.entries,
            "days": args.days,
            "day": args.day,
            "export_database": args.export_database or f"scratch, {args.residents} residents",
        },
    )
    result.machine["note"] = args.machine_note
    if not args.skip_audit:
        audit_part(args, result, say)
    if not args.skip_export:
        export_part(args, result, say)
    result.write(args.json_out)
    print(result.markdown())
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
