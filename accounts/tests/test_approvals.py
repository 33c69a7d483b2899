"""Two people for the dangerous acts (issue 12, finding 7): a 個別許可 and the reset of another supervisor's password
or second factor take effect only when a second supervisor approves; nobody approves their own request or one that
concerns themselves; a reset never shows a secret to any supervisor — the holder chooses the new password with a
code of their own authenticator. Each request, approval, refusal and refused attempt is one chain entry."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit import restrictions
from audit.models import AccessGrant, AuditLogEntry
from audit.tests.screens import entries_after, last_id
from common.errors import ServiceError
from registry.tests.factories import ResidentFactory

from .. import approvals, services
from ..models import AccountState, ApprovalRequest
from .conftest import PASSWORD, code_for, login, make_user

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "holder-chose-this-one-58"  # noqa: S105


@pytest.fixture
def boss_a(db):
    return make_user("kantoku-a", "supervisor", last_name="甲")


@pytest.fixture
def boss_b(db):
    user = make_user("kantoku-b", "supervisor", last_name="乙")
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


@pytest.fixture
def boss_c(db):
    return make_user("kantoku-c", "supervisor", last_name="丙")


@pytest.fixture
def victim(db):
    """A person under DV等支援措置 (restricted by a supervisor who takes no part in the tests)."""
    person = ResidentFactory(surname="秘匿", given_name="花子")
    restrictions.restrict(
        actor=make_user("kantoku-z", "supervisor"),
        kind="dv_support",
        reason="支援措置",
        starts_on=dt.date(2026, 11, 1),
        resident=person,
    )
    person.refresh_from_db()
    return person


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def _request_grant(actor, user, person, **overrides):
    kwargs = {
        "actor": actor,
        "user": user,
        "reason": "職務上請求の審査",
        "expires_at": timezone.now() + dt.timedelta(days=7),
        "resident": person,
        **overrides,
    }
    return approvals.request_grant(**kwargs)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _decide(client, approval, decision: str, note: str = ""):
    url = reverse("accounts:approval", args=[approval.pk])
    confirm = client.post(url, {"decision": decision, "note": note, "step": "confirm"})
    assert confirm.status_code == 200, confirm.content.decode()[:500]
    token = re.search(r'name="token" value="([^"]+)"', confirm.content.decode())[1]
    return client.post(url, {"decision": decision, "note": note, "step": "commit", "token": token}, follow=True)


# --- Grants -------------------------------------------------------------------------------------------------------


def test_a_grant_request_grants_nothing_until_a_second_supervisor_approves(boss_a, boss_c, staff_clerk, victim):
    mark = last_id()
    approval = _request_grant(boss_a, staff_clerk, victim)
    assert not AccessGrant.objects.exists()
    assert not restrictions.may_open(_fresh(staff_clerk), victim)
    assert _client(staff_clerk).get(reverse("registry:resident", args=[victim.pk])).status_code == 404
    [requested] = entries_after(mark, category=AuditLogEntry.Category.PERMISSION)
    assert (requested.category, requested.action, requested.subject_ids) == (
        "permission",
        "grant_requested",
        [victim.pk],
    )

    mark = last_id()
    page = _decide(_client(boss_c), approval, "approve")
    assert "承認しました" in page.content.decode()
    approval.refresh_from_db()
    assert (approval.state, approval.decided_by) == ("approved", boss_c)
    access_grant = AccessGrant.objects.get()
    assert (access_grant.user, access_grant.granted_by, approval.result_id) == (staff_clerk, boss_c, access_grant.pk)
    assert restrictions.may_open(_fresh(staff_clerk), victim)
    assert _client(staff_clerk).get(reverse("registry:resident", args=[victim.pk])).status_code == 200
    actions = [e.action for e in entries_after(mark, category=AuditLogEntry.Category.PERMISSION)]
    assert actions == ["grant", "grant_approved", "use"]  # "use": the clerk opened the page


def test_nobody_approves_their_own_request(boss_a, staff_clerk, victim):
    approval = _request_grant(boss_a, staff_clerk, victim)
    mark = last_id()
    with pytest.raises(ServiceError, match="自分の申請は承認できません"):
        approvals.approve(approval, actor=boss_a)
    approval.refresh_from_db()
    assert approval.state == "pending"
    assert not AccessGrant.objects.exists()
    [attempt] = entries_after(mark)
    assert (attempt.action, attempt.outcome, attempt.username) == ("approval_refused_attempt", "denied", "kantoku-a")
    # Through the screen: refused in Japanese, nothing granted; the attempt stays in the chain (the one-time key is
    # spent before the service runs, outside any transaction that its refusal would roll back).
    mark = last_id()
    page = _decide(_client(boss_a), approval, "approve")
    assert "自分の申請は承認できません" in page.content.decode()
    assert not AccessGrant.objects.exists()
    assert "approval_refused_attempt" in [e.action for e in entries_after(mark)]


def test_the_grantee_cannot_approve_a_grant_to_themselves(boss_a, boss_c, victim):
    approval = _request_grant(boss_a, boss_c, victim)
    with pytest.raises(ServiceError, match="自分に関わる申請"):
        approvals.approve(approval, actor=boss_c)
    assert not AccessGrant.objects.exists()


def test_nobody_requests_a_grant_for_themselves(boss_a, victim):
    with pytest.raises(ServiceError):
        _request_grant(boss_a, boss_a, victim)
    assert not ApprovalRequest.objects.exists()


def test_a_clerk_cannot_approve(boss_a, staff_clerk, victim):
    other = make_user("madoguchi2", "resident_clerk")
    approval = _request_grant(boss_a, staff_clerk, victim)
    with pytest.raises(ServiceError, match="権限がありません"):
        approvals.approve(approval, actor=other)
    assert _client(other).get(reverse("accounts:approvals")).status_code == 403


def test_a_request_not_approved_in_time_expires(boss_a, boss_c, staff_clerk, victim, time_machine):
    approval = _request_grant(boss_a, staff_clerk, victim)
    time_machine.shift(dt.timedelta(hours=approvals.APPROVAL_HOURS, seconds=1))
    mark = last_id()
    with pytest.raises(ServiceError, match="期限"):
        approvals.approve(approval, actor=boss_c)
    approval.refresh_from_db()
    assert approval.state == "expired"
    assert not AccessGrant.objects.exists()
    assert "approval_expired" in [e.action for e in entries_after(mark)]


def test_a_refusal_needs_a_reason_and_grants_nothing(boss_a, boss_c, staff_clerk, victim):
    approval = _request_grant(boss_a, staff_clerk, victim)
    url = reverse("accounts:approval", args=[approval.pk])
    answer = _client(boss_c).post(url, {"decision": "refuse", "note": "", "step": "confirm"})
    assert answer.status_code == 400
    assert "却下の理由を入力してください。" in answer.content.decode()
    mark = last_id()
    _decide(_client(boss_c), approval, "refuse", "理由が不十分")
    approval.refresh_from_db()
    assert (approval.state, approval.decided_by) == ("refused", boss_c)
    assert not AccessGrant.objects.exists()
    assert [e.action for e in entries_after(mark, category=AuditLogEntry.Category.PERMISSION)] == ["grant_refused"]
    with pytest.raises(ServiceError, match="すでに処理"):
        approvals.approve(approval, actor=make_user("kantoku-d", "supervisor"))


def test_the_approval_list_names_the_person_in_the_access_log(boss_a, boss_c, staff_clerk, victim):
    _request_grant(boss_a, staff_clerk, victim)
    mark = last_id()
    page = _client(boss_c).get(reverse("accounts:approvals"))
    assert page.status_code == 200
    assert "承認・却下" in page.content.decode()
    [entry] = entries_after(mark, category=AuditLogEntry.Category.ACCESS)
    assert (entry.outcome, entry.subject_ids) == ("shown", [victim.pk])
    own = _client(boss_a).get(reverse("accounts:approvals")).content.decode()
    assert "自分の申請（承認できません）" in own


# --- Resets of another supervisor ---------------------------------------------------------------------------------


def _ask_reset(client, target, action: str):
    return client.post(reverse("accounts:user_action", args=[target.pk, action]), {"step": "commit"}, follow=True)


def test_a_reset_of_another_supervisor_is_a_request_and_changes_nothing(boss_a, boss_b):
    mark = last_id()
    page = _ask_reset(_client(boss_a), boss_b, "reset_password")
    body = page.content.decode()
    assert "申請しました" in body
    assert "password" not in page.context or "password" not in (page.context.get("password") or "")
    assert _fresh(boss_b).check_password(PASSWORD)  # nothing happened yet
    assert TOTPDevice.objects.filter(user=boss_b).exists()
    [entry] = entries_after(mark, category=AuditLogEntry.Category.ACCOUNT, action="reset_requested")
    assert entry.subject_ids == [boss_b.pk]
    assert [e.action for e in entries_after(mark, category=AuditLogEntry.Category.ACCOUNT)] == [
        "login",
        "reset_requested",
    ]
    with pytest.raises(services.ManageError):
        services.reset_password(boss_a, boss_b)  # no path around the request
    with pytest.raises(services.ManageError):
        services.reset_totp(boss_a, boss_b)


def test_the_resetting_supervisors_never_see_the_new_secret(boss_a, boss_b, boss_c, client, time_machine):
    device = TOTPDevice.objects.get(user=boss_b)
    _ask_reset(_client(boss_a), boss_b, "reset_password")
    approval = ApprovalRequest.objects.get()
    approved = _decide(_client(boss_c), approval, "approve")
    assert "承認しました" in approved.content.decode()
    holder = _fresh(boss_b)
    assert not holder.has_usable_password()  # the old password is gone; no new one exists yet
    assert AccountState.objects.get(user=boss_b).password_reset_until is not None
    # Neither supervisor can finish it: it takes the holder's own authenticator.
    url = reverse("accounts:password_reset")
    mark = last_id()
    wrong = client.post(
        url,
        {
            "username": "kantoku-b",
            "token": "000000",
            "new_password1": "x" * 14 + "Q7",
            "new_password2": "x" * 14 + "Q7",
        },
    )
    assert "承認済みの再設定がないか、コードが違います" in wrong.content.decode()
    assert [e.action for e in entries_after(mark)] == ["password_reset_refused"]
    assert not _fresh(boss_b).has_usable_password()
    time_machine.shift(dt.timedelta(seconds=2))  # django-otp throttles the device for a second after a failure
    # The holder, with their phone, chooses the new password; nobody else ever saw it.
    done = client.post(
        url,
        {
            "username": "kantoku-b",
            "token": code_for(device),
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert done.status_code == 302
    assert _fresh(boss_b).check_password(NEW_PASSWORD)
    assert AccountState.objects.get(user=boss_b).password_reset_until is None
    for text in (approved.content.decode(),):
        assert NEW_PASSWORD not in text


def test_a_password_reset_needs_the_holders_authenticator(boss_a, boss_c):
    no_phone = make_user("kantoku-e", "supervisor")
    with pytest.raises(ServiceError, match="二段階認証が登録されていない"):
        approvals.request_reset("reset_password", actor=boss_a, target=no_phone)


def test_password_and_totp_cannot_both_be_reset(boss_a, boss_b, boss_c):
    approvals.request_reset("reset_password", actor=boss_a, target=boss_b)
    with pytest.raises(ServiceError, match="同時に"):
        approvals.request_reset("reset_totp", actor=boss_a, target=boss_b)


def test_a_totp_reset_takes_effect_on_approval_and_the_holder_enrols_with_their_own_password(boss_a, boss_b, boss_c):
    holder = Client()
    login(holder, "kantoku-b")
    approval = approvals.request_reset("reset_totp", actor=boss_a, target=boss_b)
    assert TOTPDevice.objects.filter(user=boss_b).exists()
    with pytest.raises(ServiceError):
        approvals.approve(approval, actor=boss_b)  # the holder does not approve their own reset
    approvals.approve(approval, actor=boss_c)
    assert not TOTPDevice.objects.filter(user=boss_b).exists()
    assert holder.get(reverse("home"))["Location"].startswith(reverse("login"))  # sessions ended


def test_takeover_of_finding_7_fails_end_to_end(boss_a, boss_b, victim, settings):
    """A resets B's password and TOTP, hoping to log in as B and grant himself the restricted person."""
    settings.ACCOUNT_REQUIRE_TOTP_FOR = ("監督者", "運用担当")
    a = _client(boss_a)
    TOTPDevice.objects.create(user=boss_a, name="phone", confirmed=True)
    session = a.session
    session.save()
    from django_otp import DEVICE_ID_SESSION_KEY

    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=boss_a).persistent_id
    session.save()
    victim_page = reverse("registry:resident", args=[victim.pk])
    assert a.get(victim_page).status_code == 404

    shown = [_ask_reset(a, boss_b, "reset_password"), _ask_reset(a, boss_b, "reset_totp")]
    for page in shown:
        assert "accounts/password_shown.html" not in [t.name for t in page.templates]
    assert "申請しました" in shown[0].content.decode()
    assert "同時に再設定することはできません" in shown[1].content.decode()
    # Nothing took effect: B keeps the password only B knows; A cannot log in as B.
    assert _fresh(boss_b).check_password(PASSWORD)
    for request_ in ApprovalRequest.objects.all():
        with pytest.raises(ServiceError):
            approvals.approve(request_, actor=boss_a)
    assert login(Client(), "kantoku-b", "guessed-by-kantoku-a-1").status_code == 200  # refused
    # A grants himself: refused; a grant for himself via a request: refused; no grant exists.
    with pytest.raises(ServiceError):
        _request_grant(boss_a, boss_a, victim)
    assert not AccessGrant.objects.exists()
    assert a.get(victim_page).status_code == 404
    assert _fresh(boss_b).check_password(PASSWORD)


# --- Making someone a supervisor ----------------------------------------------------------------------------------


def test_one_supervisor_cannot_make_a_second_approving_account(boss_a, staff_clerk, victim):
    """Without this rule A could create a supervisor whose initial password A is shown, and approve A's own
    requests with it."""
    page = _client(boss_a).post(
        reverse("accounts:user_create"),
        {"username": "puppet", "last_name": "傀儡", "role": "supervisor", "step": "commit"},
        follow=True,
    )
    assert "監督者のアカウントは直接作成できません" in page.content.decode()
    assert not get_user_model().objects.filter(username="puppet").exists()
    with pytest.raises(services.ManageError):
        services.set_role(boss_a, staff_clerk, "supervisor")
    # The role change is a request, and only for an account its holder has taken over (own password, own phone).
    with pytest.raises(ServiceError, match="初期パスワード|二段階認証"):
        approvals.request_supervisor_role(actor=boss_a, target=staff_clerk)


def test_a_supervisor_role_takes_effect_on_a_second_supervisors_approval(boss_a, boss_c, staff_clerk):
    TOTPDevice.objects.create(user=staff_clerk, name="phone", confirmed=True)
    url = reverse("accounts:user_action", args=[staff_clerk.pk, "role"])
    page = _client(boss_a).post(url, {"role": "supervisor", "step": "commit"}, follow=True)
    assert "監督者への役割変更を申請しました" in page.content.decode()
    assert services.role_of(staff_clerk).key == "resident_clerk"
    approval = ApprovalRequest.objects.get(kind="role_supervisor")
    with pytest.raises(ServiceError, match="自分の申請"):
        approvals.approve(approval, actor=boss_a)
    with pytest.raises(ServiceError, match="自分に関わる"):
        approvals.approve(approval, actor=staff_clerk)
    approvals.approve(approval, actor=boss_c)
    assert services.role_of(staff_clerk).key == "supervisor"


def test_the_menu_links_the_approvals_for_supervisors_only(boss_a, staff_clerk):
    assert reverse("accounts:approvals") in _client(boss_a).get(reverse("home")).content.decode()
    assert reverse("accounts:approvals") not in _client(staff_clerk).get(reverse("home")).content.decode()


def test_a_reset_by_someone_else_ends_the_targets_grants(boss_a, boss_c, staff_clerk, victim):
    """A supervisor who resets a clerk's password is shown it: the clerk's grants must not come with it."""
    approvals.approve(_request_grant(boss_a, staff_clerk, victim), actor=boss_c)
    assert restrictions.may_open(_fresh(staff_clerk), victim)
    password = services.reset_password(boss_a, staff_clerk)
    holder = Client()
    assert login(holder, "madoguchi", password).status_code == 302
    assert not restrictions.may_open(_fresh(staff_clerk), victim)
    assert AccessGrant.objects.get().revoke_reason == "パスワードの再設定により取消"
