"""Time and peak memory of `manage.py seed_dummy` for N residents on a given database.

    .venv/bin/python bench/seed_dummy_bench.py --residents 1000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/postgres --scratch

With --scratch a fresh database (seedbench_<pid>) is created on the server the URL names, migrated, seeded and
dropped at the end (--keep leaves it). Without it the URL's database is used as it is (it must hold no residents,
or pass --append). The seeder runs as a child process; its wall time is measured here and its peak resident set
size comes from os.wait4 (ru_maxrss of that child alone, not of migrate or of this script).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _admin(url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(url)
    conninfo = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql)


def _manage(env: dict, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [PYTHON, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=True, text=True, capture_output=capture
    )


def run(args: argparse.Namespace) -> dict:
    env = dict(os.environ, DATABASE_URL=args.database_url)
    env.setdefault("DJANGO_ALLOW_DEV_SECRET", "true")  # a throwaway database: the development key is fine
    _manage(env, "migrate", "-v0")
    command = [
        PYTHON,
        str(ROOT / "manage.py"),
        "seed_dummy",
        "--residents",
        str(args.residents),
        "--seed",
        str(args.seed),
        "--no-progress",
    ]
    if args.batch_size:
        command += ["--batch-size", str(args.batch_size)]
    if args.no_copy:
        command.append("--no-copy")
    if args.append:
        command.append("--append")
    started = time.monotonic()
    child = subprocess.Popen(command, env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE)  # noqa: S603
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    output = child.stdout.read().strip()
    child.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"seed_dummy failed ({os.waitstatus_to_exitcode(status)})")
    counts = _manage(
        env,
        "shell",
        "-v0",
        "-c",
        "import json; from devtools.dummy import row_counts; print(json.dumps(row_counts()))",
        capture=True,
    )
    rows = json.loads(counts.stdout.strip().splitlines()[-1])
    return {
        "residents": args.residents,
        "wall_seconds": round(seconds, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports kilobytes
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),  # the seeder's own; the server's is not counted
        "rows": rows,
        "rows_total": sum(rows.values()),
        "rows_per_second": round(sum(rows.values()) / seconds),
        "seed_dummy_said": output,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--scratch", action="store_true", help="create a fresh database on that server, drop it after")
    parser.add_argument("--keep", action="store_true", help="with --scratch: keep the database")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=0, help="default: the command's")
    parser.add_argument("--no-copy", action="store_true", help="bulk_create instead of COPY on PostgreSQL")
    parser.add_argument("--append", action="store_true")
    parser.add_argument("--database-name", default="", help="with --scratch: the scratch database's name")
    parser.add_argument("--json-out", default="", help="also write the result in the form of bench/result.py here")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    scratch = None
    if args.scratch:
        scratch = args.database_name or f"seedbench_{os.getpid()}"
        _admin(args.database_url, f'CREATE DATABASE "{scratch}"')
        args.database_url = _with_database(args.database_url, scratch)
    try:
        result = run(args)
    finally:
        if scratch and not args.keep:
            _admin(args.database_url, f'DROP DATABASE IF EXISTS "{scratch}"')
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json_out:
        contract(result).write(args.json_out)


def contract(result: dict):
    """The run in the form every benchmark reports (bench/result.py), for `make bench`."""
    sys.path.insert(0, str(ROOT))
    from bench.result import Result

    n = result["residents"]
    out = Result("seed", "ダミーデータの投入（seed_dummy）", parameters={"residents": n})
    out.add_figure("投入の所要時間", result["wall_seconds"], "s", n)
    out.add_figure("ピークメモリ（投入プロセス）", result["peak_rss_mb"], "MB", n)
    out.add_figure("行数（全テーブル）", result["rows_total"], "rows", n)
    out.add_figure("行／秒", result["rows_per_second"], "rows/s", n)
    if n >= 1_000_000:
        out.add_target("100 万人の投入時間", "≤ 120 s", result["wall_seconds"], "s", result["wall_seconds"] <= 120)
    return out


if __name__ == "__main__":
    main()
