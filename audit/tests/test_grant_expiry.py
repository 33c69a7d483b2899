"""The periodic analysis of the access log (report_access_anomalies: command and Celery task) and the nightly
expiry of grants (revoke_expired_grants)."""

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit import restrictions, selectors, tasks
from audit.models import AuditLogEntry
from registry.tests.factories import ResidentFactory

from .screens import append, at, user_with

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def day_of_log():
    """Wednesday 2026-11-25 in the ward: clerk A works by day, B at night, C is refused and mistypes, D mass-views."""
    day = dt.datetime(2026, 11, 25, tzinfo=JST)
    with at(day.replace(hour=10)):
        append(username="a", subject_ids=[1, 2])
    with at(day.replace(hour=23, minute=10)):
        append(username="b", subject_ids=[3])
    with at(day.replace(hour=11)):
        append(username="c", outcome="denied")
        append(username="c", action="login_failed", outcome="denied")
        append(username="c", action="login_failed", outcome="denied")
    for minute in range(0, 50, 10):  # 5 pages of 30 persons within an hour: 150
        with at(day.replace(hour=14, minute=minute)):
            append(username="d", action="views.search", subject_ids=list(range(minute, minute + 30)))
    with at(day.replace(hour=16)):  # more than an hour later: the window starts again
        append(username="d", action="views.search", subject_ids=list(range(30)))
    with at(dt.datetime(2026, 11, 26, 23, 30, tzinfo=JST)):  # outside the period
        append(username="b", subject_ids=[4])
    return day


def test_report_counts_per_user(day_of_log):
    start = day_of_log
    report = {r.username: r for r in selectors.anomaly_report(start, start + dt.timedelta(days=1), threshold=100)}
    assert (report["a"].off_hours, report["a"].flagged) == (0, False)
    assert (report["b"].off_hours, report["b"].person_views) == (1, 1)
    assert (report["c"].denied, report["c"].login_failed) == (1, 2)
    assert (report["d"].person_views, report["d"].peak_per_hour, report["d"].mass_view_episodes) == (180, 150, 1)
    assert report["d"].flagged


def test_command_prints_a_table_and_exits_0(day_of_log):
    out = StringIO()
    call_command("report_access_anomalies", "--from", "R8.11.25", "--threshold", "100", stdout=out)
    text = out.getvalue()
    assert "期間 2026-11-25 〜 2026-11-25" in text
    lines = text.splitlines()
    assert lines[1].split() == ["職員ID", "夜間・休日", "拒否", "ログイン失敗", "閲覧人数", "1時間の最大", "大量閲覧"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[3:-1]}
    assert rows == {
        "b": ["1", "0", "0", "1", "1", "0"],
        "c": ["0", "1", "2", "0", "0", "0"],
        "d": ["0", "0", "0", "180", "150", "1"],
    }
    assert lines[-1] == "職員 4 人のうち 3 人に該当あり"


def test_command_on_an_empty_period(day_of_log):
    out = StringIO()
    call_command("report_access_anomalies", "--from", "2026-01-05", "--to", "2026-01-06", "--all", stdout=out)
    assert out.getvalue().splitlines()[-1] == "職員 0 人のうち 0 人に該当あり"


def test_task_reports_the_previous_day(day_of_log, monkeypatch, caplog):
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 11, 26, 1, 0, tzinfo=JST))
    assert tasks.report_access_anomalies(threshold=100) == 3
    assert "access anomaly d:" in caplog.text


def test_nightly_task_revokes_expired_grants_and_logs_it():
    boss = user_with("kantoku")
    clerk = user_with("madoguchi", "registry.view_resident")
    person = ResidentFactory()
    restrictions.restrict(actor=boss, kind="dv_support", reason="申出", starts_on=dt.date(2026, 11, 1), resident=person)
    access_grant = restrictions.grant(
        actor=boss, user=clerk, reason="審査", expires_at=timezone.now() + dt.timedelta(hours=1), resident=person
    )
    type(access_grant).objects.filter(pk=access_grant.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert tasks.revoke_expired_grants.apply().get() == 1
    assert AuditLogEntry.objects.filter(category="permission", action="expire").count() == 1
    assert tasks.revoke_expired_grants.apply().get() == 0  # safe to run twice
