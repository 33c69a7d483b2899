"""The flags page: filters by day, kind, clerk and review state through the gate; a supervisor's review needs a
comment, goes through a 確認 page and writes one `flag_reviewed` entry; a double submit records once."""

import datetime as dt

import pytest
from django.urls import reverse

from audit.models import AnalysisFlag, AuditLogEntry

from .screens import entries_after, last_id, user_with

pytestmark = pytest.mark.django_db
FLAGS = reverse("audit:flags")
DAY = dt.date(2026, 11, 25)


@pytest.fixture
def client_as(client, supervisor):
    client.force_login(supervisor)
    return client


@pytest.fixture
def found():
    return {
        "evening": AnalysisFlag.objects.create(analysed_on=DAY, kind="after_hours", username="evening", count=2),
        "bulk": AnalysisFlag.objects.create(analysed_on=DAY, kind="mass_lookup", username="bulk", count=250),
        "older": AnalysisFlag.objects.create(analysed_on=DAY - dt.timedelta(days=1), kind="holiday", username="h"),
    }


def _listed(response) -> set[int]:
    return {f.pk for f in response.context["flags"]}


def test_list_filters_and_is_logged(client_as, found):
    mark = last_id()
    response = client_as.get(FLAGS)
    assert response.status_code == 200
    assert _listed(response) == {f.pk for f in found.values()}  # open flags by default
    assert [(e.action, e.outcome) for e in entries_after(mark)] == [("flags.flag_list", "shown")]
    assert _listed(client_as.get(FLAGS, {"kind": "mass_lookup"})) == {found["bulk"].pk}
    assert _listed(client_as.get(FLAGS, {"analysed_on": "R8.11.24"})) == {found["older"].pk}
    assert _listed(client_as.get(FLAGS, {"username": "evening"})) == {found["evening"].pk}
    found["bulk"].reviewed_at = dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC)
    found["bulk"].save()
    assert found["bulk"].pk not in _listed(client_as.get(FLAGS))
    assert _listed(client_as.get(FLAGS, {"state": "reviewed"})) == {found["bulk"].pk}


def test_review_is_refused_without_a_comment(client_as, found):
    url = reverse("audit:flag_review", args=[found["evening"].pk])
    mark = last_id()
    response = client_as.post(url, {"step": "confirm", "comment": "   "})
    assert response.status_code == 200
    assert "確認のコメントを入力してください。" in response.content.decode()
    found["evening"].refresh_from_db()
    assert found["evening"].reviewed_at is None
    assert not entries_after(mark, category=AuditLogEntry.Category.OPERATION)


def test_review_with_a_comment_through_the_confirm_page_writes_one_entry(client_as, supervisor, found):
    flag = found["evening"]
    url = reverse("audit:flag_review", args=[flag.pk])
    assert client_as.get(url).status_code == 200
    confirm = client_as.post(url, {"step": "confirm", "comment": "残業の申請あり（課長確認）"})
    assert "確認済みにする" in confirm.content.decode()
    flag.refresh_from_db()
    assert flag.reviewed_at is None  # nothing recorded on the 確認 page
    token = confirm.context["token"]
    mark = last_id()
    done = client_as.post(url, {"step": "commit", "token": token, "comment": "残業の申請あり（課長確認）"})
    assert done.status_code == 302
    flag.refresh_from_db()
    assert (flag.reviewed_by_id, flag.review_comment) == (supervisor.pk, "残業の申請あり（課長確認）")
    (entry,) = entries_after(mark, category=AuditLogEntry.Category.OPERATION)
    assert (entry.action, entry.username, entry.outcome) == ("flag_reviewed", "kantoku", "done")
    assert entry.conditions["flag_id"] == flag.pk
    assert entry.conditions["clerk"] == "evening"
    assert "残業" not in str(entry.conditions)  # the comment stays on the flag; the chain holds its digest
    # The same confirmation submitted again records nothing more.
    mark = last_id()
    client_as.post(url, {"step": "commit", "token": token, "comment": "残業の申請あり（課長確認）"})
    assert not entries_after(mark, category=AuditLogEntry.Category.OPERATION)


def test_a_viewer_without_the_review_permission_is_refused(client, found):
    viewer = user_with("operator2", "audit.view_analysisflag")
    client.force_login(viewer)
    assert client.get(FLAGS).status_code == 200
    mark = last_id()
    response = client.post(
        reverse("audit:flag_review", args=[found["bulk"].pk]), {"step": "confirm", "comment": "確認"}
    )
    assert response.status_code == 403
    assert [(e.outcome, e.username) for e in entries_after(mark)] == [("denied", "operator2")]


def test_the_menu_and_nav_lead_to_the_audit_pages(client):
    boss = user_with("boss", "audit.view_auditlogentry", "auditlog.view_logentry", "audit.view_analysisflag")
    client.force_login(boss)
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("audit:review")}" accesskey="a"' in home
    body = client.get(reverse("audit:review")).content.decode()
    assert reverse("audit:flags") in body
    assert reverse("audit:charts") in body
