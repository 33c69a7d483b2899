"""analyze_access_logs: each kind of flag with data that triggers it and data that does not, the office calendar
(勤労感謝の日, 年末年始, a weekday evening), re-runs that do not duplicate, the dry run, the summary line, exit code 0
and the beat entry."""

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from audit import analysis, office_hours
from audit.models import AnalysisFlag, BatchRun
from transfers.models import OutboundNotice

from .screens import append, at

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")
WEDNESDAY = dt.date(2026, 11, 25)  # a working day
LABOUR_THANKSGIVING = dt.date(2026, 11, 23)  # 勤労感謝の日 (a Monday)
Kind = AnalysisFlag.Kind


def moment(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST)


def flags(day: dt.date = WEDNESDAY, **filters) -> dict[tuple[str, str], AnalysisFlag]:
    return {(f.kind, f.username or f.key): f for f in AnalysisFlag.objects.filter(analysed_on=day, **filters)}


def analyze(day: dt.date = WEDNESDAY, *args: str) -> str:
    out = StringIO()
    call_command("analyze_access_logs", "--date", day.isoformat(), *args, stdout=out)
    return out.getvalue()


def kinds_for(username: str, day: dt.date = WEDNESDAY) -> set[str]:
    return {f.kind for f in AnalysisFlag.objects.filter(analysed_on=day, username=username)}


# --- The calendar ------------------------------------------------------------------------------------------------


def test_closed_days_are_weekends_national_holidays_and_the_year_end():
    assert office_hours.closed_reason(LABOUR_THANKSGIVING) == "勤労感謝の日"
    assert office_hours.closed_reason(dt.date(2026, 11, 28)) == "土曜日"
    assert office_hours.closed_reason(dt.date(2026, 12, 29)) == "年末年始"  # a Tuesday
    assert office_hours.closed_reason(dt.date(2027, 1, 1)) == "元日"
    assert office_hours.closed_reason(WEDNESDAY) == ""
    assert office_hours.closed_reason(dt.date(2026, 11, 24)) == ""


def test_closed_weekdays_are_the_holidays_and_the_year_end_from_monday_to_friday():
    closed = office_hours.closed_weekdays(dt.date(2026, 11, 20), dt.date(2027, 1, 5))
    assert closed == [LABOUR_THANKSGIVING, *(dt.date(2026, 12, d) for d in (29, 30, 31)), dt.date(2027, 1, 1)]
    assert office_hours.closed_weekdays(dt.date(2026, 11, 24), dt.date(2026, 12, 28)) == []


@pytest.mark.parametrize(
    ("hour", "minute", "after"),
    [(8, 29, True), (8, 30, False), (12, 0, False), (17, 14, False), (17, 15, True), (21, 0, True), (2, 0, True)],
)
def test_office_hours_on_a_working_day(hour, minute, after):
    assert office_hours.is_after_hours(moment(WEDNESDAY, hour, minute)) is after


def test_office_hours_follow_the_setting(settings):
    settings.AUDIT_OFFICE_HOURS = "09:00-18:00"
    assert office_hours.is_after_hours(moment(WEDNESDAY, 8, 45))
    assert not office_hours.is_after_hours(moment(WEDNESDAY, 17, 30))


# --- Each kind of flag ---------------------------------------------------------------------------------------------


def test_after_hours_on_a_weekday_evening_but_not_in_office_hours():
    with at(moment(WEDNESDAY, 19, 40)):
        append(username="evening", subject_ids=[1])
    with at(moment(WEDNESDAY, 20, 5)):
        append(username="evening", subject_ids=[2])
    with at(moment(WEDNESDAY, 10)):
        append(username="daytime", subject_ids=[3])
    analyze()
    flag = flags()[(Kind.AFTER_HOURS, "evening")]
    assert flag.count == 2
    assert flag.details == {"first": "19:40", "last": "20:05", "office_hours": "08:30-17:15"}
    assert kinds_for("daytime") == set()
    assert kinds_for("evening") == {Kind.AFTER_HOURS}


def test_holiday_on_labour_thanksgiving_day_but_not_on_the_next_working_day():
    with at(moment(LABOUR_THANKSGIVING, 10)):
        append(username="holiday-worker", subject_ids=[1])
    with at(moment(LABOUR_THANKSGIVING, 21)):  # evening of a holiday: a holiday access, not after hours
        append(username="holiday-worker", subject_ids=[2])
    next_day = dt.date(2026, 11, 24)
    with at(moment(next_day, 10)):
        append(username="holiday-worker", subject_ids=[1])
    analyze(LABOUR_THANKSGIVING)
    analyze(next_day)
    flag = flags(LABOUR_THANKSGIVING)[(Kind.HOLIDAY, "holiday-worker")]
    assert (flag.count, flag.details) == (2, {"closed": "勤労感謝の日"})
    assert kinds_for("holiday-worker", LABOUR_THANKSGIVING) == {Kind.HOLIDAY}
    assert kinds_for("holiday-worker", next_day) == set()


def test_year_end_closure_is_a_holiday():
    year_end = dt.date(2026, 12, 29)
    with at(moment(year_end, 11)):
        append(username="year-end", subject_ids=[1])
    analyze(year_end)
    assert flags(year_end)[(Kind.HOLIDAY, "year-end")].details == {"closed": "年末年始"}


def test_mass_lookup_within_an_hour_over_the_threshold():
    for minute in range(0, 50, 10):  # 5 pages of 50 persons within the hour: 250 > 200
        with at(moment(WEDNESDAY, 14, minute)):
            append(username="bulk", action="views.search", subject_ids=list(range(minute * 10, minute * 10 + 50)))
    for hour in (9, 11, 13):  # 3 pages of 50, hours apart: never more than 50 in an hour
        with at(moment(WEDNESDAY, hour)):
            append(username="steady", action="views.search", subject_ids=list(range(50)))
    analyze()
    flag = flags()[(Kind.MASS_LOOKUP, "bulk")]
    assert flag.count == 250
    assert flag.details["peak_per_hour"] == 250
    assert flag.details["peak_hour_from"] == "14:00"
    assert flag.details["episodes"] == 1
    assert kinds_for("steady") == set()


def test_mass_lookup_threshold_option_and_distinct_persons_per_day(settings):
    settings.AUDIT_MASS_LOOKUP_PER_DAY = 100
    for hour, first in ((9, 0), (11, 60), (13, 120)):  # 180 distinct persons in the day, 60 per hour
        with at(moment(WEDNESDAY, hour)):
            append(username="wide", action="views.search", subject_ids=list(range(first, first + 60)))
    for hour in (9, 11, 13):  # the same 60 persons three times: 60 distinct
        with at(moment(WEDNESDAY, hour)):
            append(username="narrow", action="views.search", subject_ids=list(range(60)))
    analyze()
    assert flags()[(Kind.MASS_LOOKUP, "wide")].details["distinct_persons"] == 180
    assert kinds_for("narrow") == set()
    analyze(WEDNESDAY, "--threshold", "50")  # now 60 in an hour is too many for both
    assert flags()[(Kind.MASS_LOOKUP, "narrow")].details["threshold_per_hour"] == 50


def test_denied_pages_are_not_counted_as_persons_viewed():
    with at(moment(WEDNESDAY, 14)):
        append(username="refused", outcome="denied", subject_ids=list(range(500)))
    analyze()
    assert Kind.MASS_LOOKUP not in kinds_for("refused")


def test_repeated_denials_from_the_threshold_on():
    with at(moment(WEDNESDAY, 11)):
        for _ in range(3):
            append(username="prober", outcome="denied")
        for _ in range(2):
            append(username="once-or-twice", outcome="denied")
    analyze()
    assert flags()[(Kind.REPEATED_DENIAL, "prober")].count == 3
    assert kinds_for("once-or-twice") == set()


def test_grant_use_per_clerk_and_record():
    with at(moment(WEDNESDAY, 10)):
        for _ in range(2):
            append(
                username="granted",
                category="permission",
                action="use",
                outcome="done",
                subject_kind="resident",
                subject_ids=[42],
                conditions={"view": "views.resident_detail"},
            )
        append(username="plain", subject_ids=[43])  # an ordinary access: no grant used
    analyze()
    flag = AnalysisFlag.objects.get(kind=Kind.GRANT_USE)
    assert (flag.username, flag.key, flag.count) == ("granted", "resident:42", 2)
    assert flag.details == {"views": {"views.resident_detail": 2}}
    assert kinds_for("plain") == set()


def test_failed_logins_from_the_threshold_on_and_any_lockout():
    with at(moment(WEDNESDAY, 9)):
        for _ in range(3):  # the older entries of audit/signals.py
            append(username="typo", category="access", action="login_failed", outcome="denied", subject_kind="")
        for _ in range(2):
            append(username="twice", category="access", action="login_failed", outcome="denied", subject_kind="")
        append(username="locked", category="account", action="locked_out", outcome="denied", subject_kind="")
    analyze()
    found = flags(kind=Kind.FAILED_LOGIN)
    assert found[(Kind.FAILED_LOGIN, "typo")].count == 3
    assert found[(Kind.FAILED_LOGIN, "locked")].details == {"failed": 0, "locked_out": 1}
    assert (Kind.FAILED_LOGIN, "twice") not in found
    assert Kind.REPEATED_DENIAL not in kinds_for("typo")  # failed logins are not denied accesses


def _notice(state: str, created_at: dt.datetime, receiver: str = "131130", **fields) -> OutboundNotice:
    notice = OutboundNotice.objects.create(kind="fuhyo_items", receiver=receiver, payload={}, state=state, **fields)
    OutboundNotice.objects.filter(pk=notice.pk).update(created_at=created_at)
    return notice


def test_overdue_notices_per_receiver_as_of_the_end_of_the_day(settings):
    settings.TRANSFERS_OVERDUE_AFTER = 600
    late = _notice("sent", moment(WEDNESDAY, 15))
    _notice("pending", moment(WEDNESDAY, 23, 55))  # only 5 minutes before the end of the day: not overdue yet
    _notice("acknowledged", moment(WEDNESDAY, 10), acknowledged_at=moment(WEDNESDAY, 10, 1))
    acked_later = _notice(
        "acknowledged", moment(WEDNESDAY, 11), receiver="J-LIS", acknowledged_at=moment(WEDNESDAY, 12)
    )
    found = [
        f
        for f in analysis.notice_findings(WEDNESDAY, now=moment(WEDNESDAY + dt.timedelta(days=2), 3))
        if f.kind == Kind.NOTICE_OVERDUE
    ]
    assert [(f.key, f.count, f.details["notice_ids"]) for f in found] == [("receiver:131130", 1, [late.pk])]
    # On the day it was acknowledged one hour late, the J-LIS notice was overdue until then, not at the day's end.
    assert acked_later.pk not in found[0].details["notice_ids"]


def test_failed_notices_still_failed_or_failed_that_day():
    failed = _notice("failed", moment(WEDNESDAY, 9))
    resent = _notice("pending", moment(WEDNESDAY, 9), receiver="131172")
    fine = _notice("acknowledged", moment(WEDNESDAY, 9), receiver="131181", acknowledged_at=moment(WEDNESDAY, 9, 1))
    with at(moment(WEDNESDAY, 9, 30)):
        append(
            username="",
            category="transmission",
            action="failed",
            outcome="error",
            subject_kind="notice",
            conditions={"message_id": str(resent.message_id), "kind": "fuhyo_items", "partner": "131172"},
        )
    found = [f for f in analysis.notice_findings(WEDNESDAY, now=moment(WEDNESDAY, 23)) if f.kind == Kind.NOTICE_FAILED]
    ids = {pk for f in found for pk in f.details["notice_ids"]}
    assert ids == {failed.pk, resent.pk}
    assert fine.pk not in ids


# --- Re-runs, dry runs, the summary line ---------------------------------------------------------------------------


@pytest.fixture
def busy_day():
    with at(moment(WEDNESDAY, 19)):
        append(username="evening", subject_ids=[1])
    with at(moment(WEDNESDAY, 11)):
        for _ in range(4):
            append(username="prober", outcome="denied")


def test_rerunning_a_day_does_not_duplicate_and_keeps_the_review(busy_day, django_user_model):
    first = analyze()
    assert "新規 2" in first
    boss = django_user_model.objects.create_user(username="boss")
    flag = AnalysisFlag.objects.get(kind=Kind.AFTER_HOURS)
    flag.reviewed_by, flag.review_comment = boss, "残業申請あり"
    flag.save()
    with at(moment(WEDNESDAY, 21)):  # a late entry for the same day arrives; the count follows
        append(username="evening", subject_ids=[2])
    second = analyze()
    assert "新規 0、更新 1、変化なし 1" in second
    assert AnalysisFlag.objects.count() == 2
    flag.refresh_from_db()
    assert (flag.count, flag.review_comment, flag.reviewed_by_id) == (2, "残業申請あり", boss.pk)


def test_summary_counts_each_kind_and_exits_0(busy_day):
    out = analyze()  # call_command would raise BatchExit for any other code
    line = out.strip().splitlines()[-1]
    assert line.startswith("2026-11-25 の分析: 2 件（大量閲覧 0、時間外の閲覧 1、休日の閲覧 0、拒否の繰り返し 1、")
    run = BatchRun.objects.get(command="analyze_access_logs")
    assert (run.exit_code, run.status) == (0, BatchRun.Status.SUCCEEDED)
    assert (run.counts["after_hours"], run.counts["repeated_denial"], run.counts["created"]) == (1, 1, 2)


def test_dry_run_prints_the_flags_without_storing(busy_day):
    out = analyze(WEDNESDAY, "--dry-run")
    assert AnalysisFlag.objects.count() == 0
    assert "時間外の閲覧\tevening\t1件" in out
    assert "拒否の繰り返し\tprober\t4件" in out
    assert out.strip().splitlines()[-1].startswith("【試行】2026-11-25 の分析: 2 件")
    assert BatchRun.objects.get().dry_run is True


def test_the_default_day_is_yesterday_and_dates_may_be_wareki(busy_day, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 26, 2, 30, tzinfo=JST))  # the nightly run after the busy day
    out = StringIO()
    call_command("analyze_access_logs", stdout=out)
    assert out.getvalue().startswith("2026-11-25 の分析: 2 件")
    out = StringIO()
    call_command("analyze_access_logs", "--date", "R8.11.25", "--dry-run", stdout=out)
    assert "2026-11-25 の分析: 2 件" in out.getvalue()


def test_beat_runs_the_analysis_every_night():
    from config.celery import app

    entries = [e for e in app.conf.beat_schedule.values() if e.get("args") == ["analyze_access_logs"]]
    assert [e["task"] for e in entries] == ["audit.tasks.run_batch_command"]
    assert not [e for e in app.conf.beat_schedule.values() if e["task"].endswith("report_access_anomalies")]
