"""`make bench`: every benchmark in one run, on the machine's PostgreSQL and Redis, written to
bench/results/latest.json and bench/results/latest.md (a Markdown table per benchmark, the targets, and how each
figure grows with the size).

    .venv/bin/python bench/suite.py [--profile full|quick] [--only seed,web,export,notices,batch]
        [--database-url postgres://postgres@127.0.0.1:5432/postgres] [--redis redis://127.0.0.1:6379/0]

The steps, each a child process writing its result (bench/result.py) to bench/results/runs/<name>.json:
1. seed — `seed_dummy` into a scratch database for each size (full: 100,000 and 1,000,000 residents): wall time and
   peak memory. The database is kept for the next two steps, then dropped.
2. web — the clerk's search and record pages under 16 clients on that database (bench/web_bench.py), with the access
   log on and off, against a bare view served by the same gunicorn.
3. export — `jlis_bulk_export` of the largest seeded ward (bench/batch_bench.py --skip-audit).
4. notices — 1,000 and 10,000 changes at one ward, delivered to a partner instance (bench/notice_bench.py).
5. batch — analyze_access_logs and verify_audit_chain over 10,000,000 audit entries (bench/batch_bench.py).
6. fuzz — 10,000 generated hostile messages to the inbound endpoint of a real server (bench/fuzz_inbound.py).
`--profile quick` runs the same steps at small sizes (a few minutes), to check that everything works.
Each step's failure is recorded and the suite goes on; the exit status is 1 if a step failed or a check did not hold.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))

from bench.result import _number, machine_info, markdown_of  # noqa: E402

PYTHON = sys.executable
PROFILES: dict[str, dict[str, Any]] = {
    "full": {
        "residents": [100_000, 1_000_000],
        "notices": [1_000, 10_000],
        "entries": 10_000_000,
        "web_duration": 30,
        "fuzz_messages": 10_000,
        "timeout": 4 * 3600,
    },
    "quick": {
        "residents": [2_000, 20_000],
        "notices": [100, 300],
        "entries": 200_000,
        "web_duration": 8,
        "fuzz_messages": 500,
        "timeout": 1800,
    },
}
STEPS = ("seed", "web", "export", "notices", "batch", "fuzz")


def _with_database(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _drop(url: str, name: str) -> None:
    from bench.analysis_bench import _admin

    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.profile = PROFILES[args.profile]
        self.runs_dir = args.output / "runs"
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.results: list[dict[str, Any]] = []
        self.failures: list[str] = []

    def step(self, key: str, script: str, *options: str) -> dict[str, Any] | None:
        """Run one benchmark script; its result file, or None (recorded as a failure) when it did not run."""
        out = self.runs_dir / f"{key}.json"
        out.unlink(missing_ok=True)
        command = [PYTHON, str(BENCH_DIR / script), *options, "--json-out", str(out)]
        say(f"{key}: {' '.join(command[1:])}")
        began = time.monotonic()
        try:
            done = subprocess.run(command, cwd=ROOT, timeout=self.profile["timeout"], check=False)  # noqa: S603
            code = done.returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
        seconds = time.monotonic() - began
        if not out.exists():
            self.failures.append(f"{key}: 結果なし（終了コード {code}、{seconds:.0f} 秒）")
            say(f"{key}: FAILED ({code}) after {seconds:.0f} s")
            return None
        data = json.loads(out.read_text(encoding="utf-8"))
        data["step"] = key
        if code != 0:
            self.failures.append(f"{key}: 終了コード {code}")
        self.results.append(data)
        say(f"{key}: done in {seconds:.0f} s")
        return data

    def run(self) -> None:
        only = set(self.args.only.split(",")) if self.args.only else set(STEPS)
        url = self.args.database_url
        sizes = self.profile["residents"]
        for size in sizes:
            if not only & {"seed", "web", "export"}:
                break
            name = f"benchsuite_{size}_{os.getpid()}"
            seeded = self.step(
                f"seed-{size}",
                "seed_dummy_bench.py",
                "--residents",
                str(size),
                "--database-url",
                url,
                "--scratch",
                "--keep",
                "--database-name",
                name,
                "--seed",
                "1",
            )
            try:
                if seeded is None:
                    continue
                db = _with_database(url, name)
                if "web" in only:
                    self.step(
                        f"web-{size}",
                        "web_bench.py",
                        "--database-url",
                        db,
                        "--residents",
                        str(size),
                        "--duration",
                        str(self.profile["web_duration"]),
                    )
                if "export" in only and size == sizes[-1]:
                    self.step(
                        f"export-{size}",
                        "batch_bench.py",
                        "--database-url",
                        url,
                        "--export-database",
                        name,
                        "--skip-audit",
                    )
            finally:
                _drop(url, name)
        if "notices" in only:
            for count in self.profile["notices"]:
                self.step(
                    f"notices-{count}",
                    "notice_bench.py",
                    "--notices",
                    str(count),
                    "--database-url",
                    url,
                    "--redis",
                    self.args.redis,
                    "--output",
                    str(self.runs_dir),
                )
        if "batch" in only:
            entries = str(self.profile["entries"])
            self.step("batch", "batch_bench.py", "--database-url", url, "--entries", entries, "--skip-export")
        if "fuzz" in only:
            messages = str(self.profile["fuzz_messages"])
            self.step("fuzz", "fuzz_inbound.py", "--database-url", url, "--messages", messages)

    def growth(self) -> list[dict[str, Any]]:
        """For each figure measured at two sizes by the same benchmark: the ratio of the values and of the sizes."""
        by_key: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
        for result in self.results:
            for figure in result.get("figures", []):
                if "size" in figure and isinstance(figure["value"], int | float):
                    key = (result["name"], figure["label"], figure.get("unit", ""))
                    by_key.setdefault(key, []).append((figure["size"], figure["value"]))
        rows = []
        for (name, label, unit), points in by_key.items():
            points = sorted(set(points))
            if len(points) >= 2 and points[0][1]:
                (small, a), (big, b) = points[0], points[-1]
                rows.append(
                    {
                        "benchmark": name,
                        "label": label,
                        "unit": unit,
                        "sizes": [small, big],
                        "values": [a, b],
                        "size_ratio": big / small,
                        "value_ratio": b / a,
                    }
                )
        return rows

    def write(self, started: float) -> Path:
        machine = machine_info(self.args.machine_note)
        document = {
            "profile": self.args.profile,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
            "wall_s": round(time.time() - started, 1),
            "machine": machine,
            "failures": self.failures,
            "results": self.results,
            "growth": self.growth(),
        }
        self.args.output.mkdir(parents=True, exist_ok=True)
        (self.args.output / "latest.json").write_text(
            json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        path = self.args.output / "latest.md"
        path.write_text(markdown_document(document), encoding="utf-8")
        return path


def markdown_document(document: dict[str, Any]) -> str:
    machine = document["machine"]
    lines = [
        f"## ベンチマーク結果（{document['started_at'][:10]}、プロファイル {document['profile']}）",
        "",
        f"- 機械: {machine.get('cpus')} CPU（{machine.get('cpu_model', '不明')}）、"
        f"メモリ {machine.get('memory_gb', '?')} GB、{machine.get('platform', '')}、Python {machine.get('python', '')}",
        f"- 終了時のロードアベレージ: {' / '.join(f'{x:.1f}' for x in machine.get('load', []))}"
        + (f"（{machine['note']}）" if machine.get("note") else ""),
        (
            f"- 全体の所要時間: {document['wall_s'] / 60:.1f} 分"
            if document["wall_s"] >= 1
            else "- 別々に実行した各段階の結果（`--include`）をまとめた表です（各結果の日時と機械は latest.json に）"
        ),
        "",
    ]
    if document["failures"]:
        lines += ["**実行できなかった・確認に失敗した段階:**", ""] + [f"- {f}" for f in document["failures"]] + [""]
    targets = [(r["title"], t) for r in document["results"] for t in r.get("targets", [])]
    if targets:
        lines += ["### 目標", "", "| ベンチマーク | 目標 | 目標値 | 結果 | 達成 |", "|---|---|---|---:|:---:|"]
        for title, t in targets:
            met = "✓" if t["met"] else "✗"
            lines.append(f"| {title} | {t['label']} | {t['target']} | {t['value']} {t.get('unit', '')} | {met} |")
        lines.append("")
    if document["growth"]:
        lines += [
            "### 規模による伸び",
            "",
            "| ベンチマーク | 項目 | 規模 | 値 | 規模の比 | 値の比 |",
            "|---|---|---|---|---:|---:|",
        ]
        for g in document["growth"]:
            sizes = " → ".join(f"{s:,}" for s in g["sizes"])
            values = " → ".join(_number(v) for v in g["values"])
            lines.append(
                f"| {g['benchmark']} | {g['label']} | {sizes} | {values} {g['unit']} | ×{g['size_ratio']:.0f} | "
                f"×{g['value_ratio']:.2f} |"
            )
        lines.append("")
    for result in document["results"]:
        lines.append(markdown_of(result))
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default=os.environ.get("BENCH_PROFILE", "full"))
    parser.add_argument("--only", default="", help=f"comma-separated steps among {', '.join(STEPS)}")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server: scratch databases are made there and dropped",
    )
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results")
    parser.add_argument("--machine-note", default=os.environ.get("BENCH_MACHINE_NOTE", ""))
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        type=Path,
        help="a result file of a benchmark run separately (its own time and machine are kept), added to the report",
    )
    args = parser.parse_args()
    started = time.time()
    suite = Suite(args)
    for path in args.include:
        included = json.loads(path.read_text(encoding="utf-8"))
        included.setdefault("step", f"included:{path.name}")
        suite.results.append(included)
    try:
        suite.run()
    finally:
        path = suite.write(started)
    print(path.read_text(encoding="utf-8"))
    say(f"written to {path} and {path.with_suffix('.json')}")
    checks_ok = all(c["ok"] for r in suite.results for c in r.get("checks", []))
    return 0 if checks_ok and not suite.failures else 1


if __name__ == "__main__":
    raise SystemExit(main())
