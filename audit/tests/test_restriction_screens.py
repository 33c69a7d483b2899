"""閲覧制限・個別許可 screens: the supervisor restricts a person, grants a clerk access, revokes it, lifts the
restriction — each through a 確認 page, with CSRF, Japanese errors, once only, and each step in the chain."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import approvals
from accounts.models import ApprovalRequest
from audit import restrictions
from audit.models import AccessGrant, AccessRestriction
from common.templatetags.local_day import local_day
from common.wareki import to_wareki_with_seireki
from koseki_fuhyo.tests.factories import link_to_koseki
from registry.models import UsedSubmissionToken
from registry.tests.factories import ResidentFactory

from .screens import entries_after, last_id, user_with

pytestmark = pytest.mark.django_db
MANAGE = "audit.manage_restriction"


@pytest.fixture
def client_as(client, supervisor):
    client.force_login(supervisor)
    return client


@pytest.fixture
def person():
    resident = ResidentFactory(surname="佐藤", given_name="花子", surname_kana="サトウ", given_name_kana="ハナコ")
    link_to_koseki(resident)
    resident.refresh_from_db()
    return resident


def _token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode())[1]


def _restrict(client, target, **overrides):
    data = {
        "person": target.juminhyo_code,
        "kind": AccessRestriction.Kind.DV_SUPPORT,
        "reason": "DV等支援措置の申出（受付番号 R8-101）",
        "starts_on": "R8.11.25",
        "ends_on": "",
        "step": "confirm",
    }
    data.update(overrides)
    confirm = client.post(reverse("audit:restrict"), data)
    assert confirm.status_code == 200
    return confirm, {**data, "step": "commit", "token": _token(confirm)}


def test_clerk_cannot_open_the_screens_and_is_logged(client, staff_clerk):
    client.force_login(staff_clerk)
    mark = last_id()
    assert client.get(reverse("audit:restrictions")).status_code == 403
    assert client.post(reverse("audit:restrict"), {"person": "1"}).status_code == 403
    assert [e.outcome for e in entries_after(mark)] == ["denied", "denied"]


def test_restrict_through_confirmation_shows_the_name_and_records_once(client_as, person, supervisor):
    confirm, commit = _restrict(client_as, person)
    body = confirm.content.decode()
    assert "佐藤　花子" in body
    assert "設定する" in body
    assert not AccessRestriction.objects.exists()  # the 確認 page records nothing

    mark = last_id()
    response = client_as.post(reverse("audit:restrict"), commit)
    restriction = AccessRestriction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("audit:restriction", args=[restriction.pk])
    assert restriction.starts_on == dt.date(2026, 11, 25)
    assert restriction.created_by == supervisor
    person.refresh_from_db()
    assert person.access_restricted
    events = entries_after(mark)
    assert [(e.category, e.action) for e in events] == [("permission", "restrict"), ("access", "restrictions.restrict")]
    assert events[1].subject_ids == [person.pk]

    again = client_as.post(reverse("audit:restrict"), commit, follow=True)  # double submit / back button
    assert AccessRestriction.objects.count() == 1
    assert "すでに処理されています" in again.content.decode()


def test_what_is_recorded_is_what_was_confirmed(client_as, person):
    """記録 reads the input from the 確認 page's token, not from fields posted with it."""
    _, commit = _restrict(client_as, person)
    client_as.post(reverse("audit:restrict"), {**commit, "reason": "書き換えた理由", "starts_on": "R8.12.24"})
    restriction = AccessRestriction.objects.get()
    assert restriction.reason == "DV等支援措置の申出（受付番号 R8-101）"
    assert restriction.starts_on == dt.date(2026, 11, 25)
    used = UsedSubmissionToken.objects.get()
    assert (used.purpose, used.result_url) == ("audit:restrict", reverse("audit:restriction", args=[restriction.pk]))


def test_a_confirmation_serves_its_own_screen_only(client_as, person, supervisor):
    other = ResidentFactory(surname="鈴木", given_name="一郎")
    restriction = restrictions.restrict(
        actor=supervisor, kind="dv_support", reason="申出", starts_on=dt.date(2026, 11, 1), resident=other
    )
    lift = client_as.post(reverse("audit:lift", args=[restriction.pk]), {"reason": "支援措置の終了", "step": "confirm"})
    data = {"person": person.juminhyo_code, "kind": "dv_support", "reason": "申出", "starts_on": "R8.11.25"}
    answer = client_as.post(reverse("audit:restrict"), {**data, "step": "commit", "token": _token(lift)}, follow=True)
    assert "別の職員または別の画面のもの" in answer.content.decode()
    assert AccessRestriction.objects.count() == 1  # nothing recorded with the 解除 screen's token
    restriction.refresh_from_db()
    assert restriction.lifted_at is None
    assert not UsedSubmissionToken.objects.exists()


def test_the_restriction_form_takes_and_shows_dates_in_wareki(client_as, person):
    """Issue 15, item 6: the dates of the form are the 異動 forms' — typed in 和暦, shown as 和暦 with 西暦 beside."""
    today = timezone.localdate()
    form = client_as.get(reverse("audit:restrict")).content.decode()
    assert f'value="{to_wareki_with_seireki(today)}"' in form
    assert f'value="{today.isoformat()}"' not in form
    confirm, commit = _restrict(client_as, person, starts_on="令和8年12月6日", ends_on="R9.3.31")
    assert "令和8年12月6日（2026-12-06）" in confirm.content.decode()
    assert "令和9年3月31日（2027-03-31）" in confirm.content.decode()
    back = client_as.post(reverse("audit:restrict"), {**commit, "back": "1"}).content.decode()
    assert 'value="令和8年12月6日（2026-12-06）"' in back
    assert 'value="2026-12-06"' not in back
    client_as.post(reverse("audit:restrict"), commit)
    restriction = AccessRestriction.objects.get()
    assert (restriction.starts_on, restriction.ends_on) == (dt.date(2026, 12, 6), dt.date(2027, 3, 31))
    detail = client_as.get(reverse("audit:restriction", args=[restriction.pk])).content.decode()
    assert "令和8年12月6日（2026-12-06）" in detail


def test_restrict_errors_in_japanese(client_as, person):
    response = client_as.post(reverse("audit:restrict"), {"step": "confirm", "starts_on": "R8.13.1"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "閲覧制限をかける人の住民票IDまたは住民票コードを入力してください。" in body
    assert "閲覧制限の理由を入力してください。" in body
    assert "存在しない日付です" in body
    response = client_as.post(
        reverse("audit:restrict"),
        {
            "step": "confirm",
            "person": str(person.pk),
            "kind": "dv_support",
            "reason": "x",
            "starts_on": "2026-11-25",
            "ends_on": "2026-11-01",
        },
    )
    assert "終了予定日は開始日以降にしてください。" in response.content.decode()


def test_the_fields_are_drawn_like_the_entry_screens(client_as):
    """One field partial (templates/common/_field.html): the error sits right after its input, with the id the
    異動 screens give it."""
    body = client_as.post(reverse("audit:restrict"), {"step": "confirm", "starts_on": "R8.13.1"}).content.decode()
    error_at = body.index('id="id_starts_on_error"')
    assert body.index('id="id_starts_on"') < error_at
    assert "存在しない日付です" in body[error_at : error_at + 300]


def test_restrict_by_record_id_and_back_button(client_as, person):
    _, commit = _restrict(client_as, person, person=str(person.pk))
    back = client_as.post(reverse("audit:restrict"), {**commit, "back": "1"})
    assert back.status_code == 200
    assert 'value="DV等支援措置の申出（受付番号 R8-101）"' not in back.content.decode()  # a textarea, not an input
    assert "DV等支援措置の申出（受付番号 R8-101）" in back.content.decode()
    assert not AccessRestriction.objects.exists()


def test_list_shows_the_restricted_persons_name_to_the_supervisor(client_as, person, supervisor):
    restrictions.restrict(
        actor=supervisor, kind="supervisor", reason="監督者判断", starts_on=dt.date(2026, 11, 1), resident=person
    )
    mark = last_id()
    response = client_as.get(reverse("audit:restrictions"))
    assert "佐藤　花子" in response.content.decode()
    (entry,) = entries_after(mark)
    assert (entry.outcome, entry.subject_kind, entry.subject_ids) == ("shown", "person", [person.pk])


def test_grant_then_revoke_then_lift(client_as, person, supervisor, staff_clerk):
    restriction = restrictions.restrict(
        actor=supervisor, kind="dv_support", reason="申出", starts_on=dt.date(2026, 11, 1), resident=person
    )
    person.refresh_from_db()
    assert not restrictions.may_open(type(staff_clerk).objects.get(pk=staff_clerk.pk), person)

    # The grant form lists the clerk and the person's records; expiry beyond 90 days is refused in Japanese.
    url = reverse("audit:grant", args=[restriction.pk])
    form = client_as.get(url)
    assert "madoguchi（窓口）" in form.content.decode()
    too_late = (timezone.localdate() + dt.timedelta(days=91)).isoformat()
    data = {
        "user": staff_clerk.pk,
        "record": f"resident:{person.pk}",
        "reason": "",
        "expires_on": too_late,
        "step": "confirm",
    }
    body = client_as.post(url, data).content.decode()
    assert "許可の理由を入力してください。" in body
    assert "有効期限は90日以内" in body

    data.update(reason="職務上請求の審査", expires_on=(timezone.localdate() + dt.timedelta(days=7)).isoformat())
    confirm = client_as.post(url, data)
    assert "申請する" in confirm.content.decode()
    assert not AccessGrant.objects.exists()
    mark = last_id()
    client_as.post(url, {**data, "step": "commit", "token": _token(confirm)})
    # A request only (issue 12): no grant, no permission, until a second supervisor approves.
    assert not AccessGrant.objects.exists()
    assert [e.action for e in entries_after(mark)] == ["grant_requested", "restrictions.grant"]
    assert not restrictions.may_open(type(staff_clerk).objects.get(pk=staff_clerk.pk), person)
    approval = ApprovalRequest.objects.get()
    second = user_with("kantoku2", MANAGE, "accounts.manage_users")
    approvals.approve(approval, actor=second)
    access_grant = AccessGrant.objects.get()
    assert (access_grant.user, access_grant.resident, access_grant.granted_by) == (staff_clerk, person, second)
    assert restrictions.may_open(type(staff_clerk).objects.get(pk=staff_clerk.pk), person)

    grants_page = client_as.get(reverse("audit:grants"), {"state": "active"}).content.decode()
    assert "有効" in grants_page
    assert "職務上請求の審査" in grants_page

    # Revoke.
    url = reverse("audit:revoke", args=[access_grant.pk])
    assert "取消の理由を入力してください。" in client_as.post(url, {"step": "confirm"}).content.decode()
    confirm = client_as.post(url, {"reason": "審査終了", "step": "confirm"})
    client_as.post(url, {"reason": "審査終了", "step": "commit", "token": _token(confirm)})
    access_grant.refresh_from_db()
    assert access_grant.revoked_by == supervisor
    assert not restrictions.may_open(type(staff_clerk).objects.get(pk=staff_clerk.pk), person)
    assert "取消済み" in client_as.get(reverse("audit:grants"), {"state": "revoked"}).content.decode()
    assert "取り消す必要はありません" in client_as.get(url).content.decode()

    # Lift.
    url = reverse("audit:lift", args=[restriction.pk])
    confirm = client_as.post(url, {"reason": "支援措置の終了", "step": "confirm"})
    assert "解除する" in confirm.content.decode()
    client_as.post(url, {"reason": "支援措置の終了", "step": "commit", "token": _token(confirm)})
    restriction.refresh_from_db()
    person.refresh_from_db()
    assert restriction.lifted_by == supervisor
    assert not person.access_restricted
    assert "すでに解除されています" in client_as.get(url).content.decode()


def test_expired_grant_shows_as_expired(client_as, person, supervisor, staff_clerk):
    restrictions.restrict(
        actor=supervisor, kind="dv_support", reason="申出", starts_on=dt.date(2026, 11, 1), resident=person
    )
    access_grant = restrictions.grant(
        actor=supervisor,
        user=staff_clerk,
        reason="審査",
        expires_at=timezone.now() + dt.timedelta(hours=1),
        resident=person,
    )
    AccessGrant.objects.filter(pk=access_grant.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert "期限切れ" in client_as.get(reverse("audit:grants"), {"state": "expired"}).content.decode()
    restrictions.revoke_expired()
    rows = client_as.get(reverse("audit:grants"), {"state": "expired"}).context["rows"]
    assert [r["state"] for r in rows] == ["expired"]
    assert client_as.get(reverse("audit:grants"), {"state": "revoked"}).context["rows"] == []


def test_actions_require_csrf(person, supervisor):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(supervisor)
    response = csrf_client.post(reverse("audit:restrict"), {"person": person.juminhyo_code, "step": "confirm"})
    assert response.status_code == 403


def test_times_are_shown_on_the_wards_calendar_day():
    assert local_day(dt.datetime(2026, 11, 25, 16, 30, tzinfo=dt.UTC)) == dt.date(2026, 11, 26)  # 1:30 in Tokyo
    assert local_day(dt.date(2026, 11, 25)) == dt.date(2026, 11, 25)
