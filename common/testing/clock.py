"""The instant every test runs at, unless it names its own (conftest.py's `_pinned_clock`).

The default is a working day in office hours, Wednesday 2026-11-25 at 10:00 JST. `TEST_TODAY=YYYY-MM-DD` and
`TEST_TIME=HH:MM` (JST) move it, so that the suite can be run as if on a Sunday, a national holiday, the year-end
closure or at night: a test that does not name its day must pass on every day (.ci/run runs the calendar-sensitive
tests on the days of `CALENDAR_RUNS`).
"""

import datetime as dt
import os

JST = dt.timezone(dt.timedelta(hours=9), "JST")  # a fixed offset: time-machine then leaves the process's TZ alone
TODAY = dt.date(2026, 11, 25)  # a Wednesday, no holiday
TIME_OF_DAY = dt.time(10, 0)

# The days and times .ci/run runs the calendar-sensitive tests at: a Saturday, a Sunday, a national holiday
# (勤労感謝の日), the year-end and new-year closure (閉庁日), and the last day of 平成 and the first of 令和.
CALENDAR_RUNS: tuple[tuple[str, str], ...] = tuple(
    (day, time)
    for day in ("2026-12-05", "2026-12-06", "2026-11-23", "2026-12-31", "2027-01-01", "2019-04-30", "2019-05-01")
    for time in ("03:00", "21:30")
)

# The calendar-sensitive tests (marked `calendar` by conftest.py, and any test marked so itself): access analysis,
# charts, the log screen, office hours, 和暦, retention and purge, session lifetime, lockout, TOTP, grants and edit
# locks that expire, overdue notices and retries, seals.
CALENDAR_TEST_FILES: frozenset[str] = frozenset(
    {
        "accounts/tests/test_lockout.py",
        "accounts/tests/test_sessions.py",
        "accounts/tests/test_totp.py",
        "audit/tests/test_analysis.py",
        "audit/tests/test_chain_lanes.py",
        "audit/tests/test_charts.py",
        "audit/tests/test_export_files.py",
        "audit/tests/test_flags_screen.py",
        "audit/tests/test_grant_expiry.py",
        "audit/tests/test_log_screen.py",
        "audit/tests/test_purge.py",
        "audit/tests/test_seals.py",
        "common/tests/test_entry_fields.py",
        "common/tests/test_wareki.py",
        "registry/tests/test_edit_lock.py",
        "registry/tests/test_resident_page.py",
        "transfers/tests/test_pages.py",
        "transfers/tests/test_sweeper.py",
    }
)


class ClockSettingError(ValueError):
    pass


def pinned_instant(environ: dict[str, str] | None = None) -> dt.datetime:
    """TEST_TODAY and TEST_TIME from the environment, or the default working-day morning, as an aware datetime."""
    env = os.environ if environ is None else environ
    day_text = env.get("TEST_TODAY", "").strip()
    time_text = env.get("TEST_TIME", "").strip()
    try:
        day = dt.date.fromisoformat(day_text) if day_text else TODAY
        time = dt.time.fromisoformat(time_text) if time_text else TIME_OF_DAY
    except ValueError as exc:
        raise ClockSettingError(
            f"TEST_TODAY must be YYYY-MM-DD and TEST_TIME HH:MM, got {day_text!r} and {time_text!r}"
        ) from exc
    return dt.datetime.combine(day, time, tzinfo=JST)
