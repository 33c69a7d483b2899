"""Run the calendar-sensitive tests (`-m calendar`) once for each day and time of common.testing.clock.CALENDAR_RUNS.

Each run is its own pytest process with TEST_TODAY and TEST_TIME set, so every test that does not name its own day
runs as if on a Saturday, a Sunday, a national holiday, the year-end closure, the last day of 平成 and the first of
令和, at 03:00 and at 21:30. The test database is kept between runs (--reuse-db). Prints one line a run and exits 1
if any run failed. `make test-calendar` and .ci/run call it.

    python scripts/calendar_runs.py [pytest arguments...]
"""

import os
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from common.testing.clock import CALENDAR_RUNS  # noqa: E402 - after the path is set


def main(extra: list[str]) -> int:
    failed = []
    for day, clock in CALENDAR_RUNS:
        env = {**os.environ, "TEST_TODAY": day, "TEST_TIME": clock}
        argv = [sys.executable, "-m", "pytest", "-m", "calendar", "-q", "-p", "no:cacheprovider", "--reuse-db"]
        started = time.monotonic()
        result = subprocess.run([*argv, *extra], cwd=BASE_DIR, env=env, check=False)  # noqa: S603 - our own pytest
        outcome = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        print(f"[calendar] TEST_TODAY={day} TEST_TIME={clock}: {outcome} in {time.monotonic() - started:.0f} s")
        if result.returncode != 0:
            failed.append(f"{day} {clock}")
    print(
        f"[calendar] {len(CALENDAR_RUNS) - len(failed)} of {len(CALENDAR_RUNS)} runs passed"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
