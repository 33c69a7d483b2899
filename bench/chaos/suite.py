"""`make chaos`: the fault-injection scenarios in one run, written to bench/results/chaos-latest.json and .md.

    .venv/bin/python bench/chaos/suite.py [--profile full|ci] [--only notices,web]

- notices (bench/chaos/notices.py): changes raising notices to two partner instances while A's worker is killed
  with SIGKILL, Redis is restarted (once keeping, once losing its queue) and a partner is offline; a second partner
  answers 503 to one call in five. Every notice acknowledged and applied once, soon after the last fault.
- web (bench/chaos/web.py): Redis stopped while clerks record changes (every request succeeds, p95 within 10 %),
  and PostgreSQL restarted under load (a clear 503 page, recovery without a restart, nothing committed lost).

`--profile ci` runs both with smaller numbers (the CI job, a few minutes); `full` with the issue's numbers. Each
scenario kills only the processes it started, by process id. Exit status 1 if a scenario failed or a check did not
hold.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CHAOS_DIR = Path(__file__).resolve().parent
ROOT = CHAOS_DIR.parent.parent
sys.path.insert(0, str(ROOT))

from bench.result import machine_info, markdown_of  # noqa: E402

PROFILES: dict[str, dict[str, list[str]]] = {
    "full": {"notices": [], "web": []},
    "ci": {
        "notices": ["--changes", "200", "--worker-kills", "2", "--partner-offline", "10", "--rate", "10"],
        "web": ["--small"],
    },
}
TIMEOUT = {"full": 3600, "ci": 900}


def say(text: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default=os.environ.get("CHAOS_PROFILE", "full"))
    parser.add_argument("--only", default="", help="comma-separated: notices, web")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--machine-note", default=os.environ.get("BENCH_MACHINE_NOTE", ""))
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else set(PROFILES[args.profile])
    runs = args.output / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    started = time.time()
    results, failures = [], []
    for name in ("notices", "web"):
        if name not in only:
            continue
        out = runs / f"chaos-{name}.json"
        out.unlink(missing_ok=True)
        command = [sys.executable, str(CHAOS_DIR / f"{name}.py"), *PROFILES[args.profile][name], "--json-out", str(out)]
        say(" ".join(command[1:]))
        began = time.monotonic()
        try:
            code = subprocess.run(command, cwd=ROOT, timeout=TIMEOUT[args.profile], check=False).returncode  # noqa: S603
        except subprocess.TimeoutExpired:
            code = "timeout"
        say(f"{name}: exit {code} after {time.monotonic() - began:.0f} s")
        if out.exists():
            results.append(json.loads(out.read_text(encoding="utf-8")))
        if code != 0:
            failures.append(f"{name}: 終了コード {code}")
    document = {
        "profile": args.profile,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "wall_s": round(time.time() - started, 1),
        "machine": machine_info(args.machine_note),
        "failures": failures,
        "results": results,
    }
    (args.output / "chaos-latest.json").write_text(
        json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    lines = [f"## 障害注入（{document['started_at'][:10]}、プロファイル {args.profile}）", ""]
    lines += [f"- 失敗: {failure}" for failure in failures] or ["- すべての確認が成り立ちました"]
    lines += ["", *(markdown_of(result) for result in results)]
    text = "\n".join(lines) + "\n"
    (args.output / "chaos-latest.md").write_text(text, encoding="utf-8")
    print(text)
    return 1 if failures or not all(c["ok"] for r in results for c in r.get("checks", [])) else 0


if __name__ == "__main__":
    raise SystemExit(main())
