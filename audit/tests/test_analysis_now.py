"""Issue 15, item 10: the flags page says when the analysis last ran (和暦 with 西暦 and the time) or that it never
has, and offers supervisors 「今すぐ分析」: the nightly command itself, run now, permission-checked and logged."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AnalysisFlag, BatchRun
from common.wareki import to_wareki_with_seireki

from .screens import append, at, entries_after, last_id, user_with

pytestmark = pytest.mark.django_db
FLAGS = reverse("audit:flags")
RUN = reverse("audit:run_analysis")


@pytest.fixture
def supervisor(client, supervisor):
    """The root conftest's supervisor, logged in on `client`."""
    client.force_login(supervisor)
    return supervisor


def test_before_the_first_run_the_page_says_so(client, supervisor):
    body = client.get(FLAGS).content.decode()
    assert "まだ実行されていません" in body
    assert f'action="{RUN}"' in body
    assert "今すぐ分析" in body


def test_the_last_run_is_shown_in_wareki_with_seireki_and_time(client, supervisor):
    with at(dt.datetime(2026, 11, 25, 3, 15, tzinfo=dt.timezone(dt.timedelta(hours=9)))):
        BatchRun.objects.create(command="analyze_access_logs", source="task", status="succeeded", summary="分析: 0 件")
    BatchRun.objects.create(command="analyze_access_logs", source="command", dry_run=True)  # a dry run stored nothing
    body = client.get(FLAGS).content.decode()
    assert "令和8年11月25日（2026-11-25） 03:15" in body
    assert "毎晩の分析" in body
    assert "まだ実行されていません" not in body


def test_analysis_now_runs_the_nightly_command_for_today_and_is_logged(client, supervisor):
    for _ in range(3):
        append(username="denied-clerk", outcome="denied")
    mark = last_id()
    response = client.post(RUN, {"day": "today"})
    assert response.status_code == 302
    today = timezone.localdate()
    assert response["Location"] == f"{FLAGS}?analysed_on={today.isoformat()}&state=all"
    run = BatchRun.objects.get(command="analyze_access_logs")
    assert (run.status, run.actor_id, run.arguments["date"]) == ("succeeded", supervisor.pk, today.isoformat())
    assert AnalysisFlag.objects.filter(analysed_on=today, kind="repeated_denial", username="denied-clerk").exists()
    access = [e for e in entries_after(mark) if e.category == "access"]
    assert [(e.action, e.outcome) for e in access] == [("flags.run_analysis", "shown")]
    assert access[0].conditions == {"analysed_on": today.isoformat(), "batch_run_id": run.pk}
    page = client.get(response["Location"]).content.decode()
    assert "の記録を分析しました" in page
    assert to_wareki_with_seireki(timezone.localdate()) in page.split("最後の分析")[1]


def test_analysis_now_is_for_supervisors_only(client):
    viewer = user_with("viewer", "audit.view_analysisflag")
    client.force_login(viewer)
    assert f'action="{RUN}"' not in client.get(FLAGS).content.decode()
    mark = last_id()
    assert client.post(RUN, {"day": "today"}).status_code == 403
    assert [(e.action, e.outcome) for e in entries_after(mark)] == [("flags.run_analysis", "denied")]
    assert not BatchRun.objects.exists()


def test_analysis_now_refuses_get(client, supervisor):
    assert client.get(RUN).status_code == 405
    assert not BatchRun.objects.exists()
