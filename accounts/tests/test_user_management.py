"""Supervisors manage staff accounts in the UI: create (initial password shown once, forced change at the first
login), disable / enable, role, password reset, TOTP reset — each through a 確認 page and one `account` entry (actor,
target id, what changed; never a password). Only holders of accounts.manage_users; superusers are out of reach."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditLogEntry
from audit.tests.screens import entries_after, last_id

from ..models import AccountState
from .conftest import PASSWORD, login, make_user

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-brand-new-passphrase-77"  # noqa: S105


@pytest.fixture
def boss(supervisor):
    client = Client()
    client.force_login(supervisor)
    return client


def _account_entries(mark: int) -> list[AuditLogEntry]:
    return entries_after(mark, category=AuditLogEntry.Category.ACCOUNT)


def _create(boss, **fields):
    data = {"username": "shinjin", "last_name": "新人", "first_name": "一郎", "role": "resident_clerk", **fields}
    confirm = boss.post(reverse("accounts:user_create"), {**data, "step": "confirm"})
    assert confirm.status_code == 200
    assert not get_user_model().objects.filter(username=data["username"]).exists()  # the 確認 page changes nothing
    return boss.post(reverse("accounts:user_create"), {**data, "step": "commit"})


def test_only_holders_of_the_permission_manage_users(client, staff_clerk):
    assert client.get(reverse("accounts:users"))["Location"].startswith(reverse("login"))
    client.force_login(staff_clerk)
    assert client.get(reverse("accounts:users")).status_code == 403
    assert client.get(reverse("accounts:user_detail", args=[staff_clerk.pk])).status_code == 403
    assert (
        client.post(reverse("accounts:user_action", args=[staff_clerk.pk, "disable"]), {"step": "commit"}).status_code
        == 403
    )
    assert get_user_model().objects.get(pk=staff_clerk.pk).is_active
    refused = AuditLogEntry.objects.filter(category="access", user=staff_clerk).order_by("pk")
    assert [(e.action, e.outcome) for e in refused] == [
        ("views.user_list", "denied"),
        ("views.user_detail", "denied"),
        ("views.user_action", "denied"),
    ]
    assert refused[1].subject_ids == [staff_clerk.pk]


def test_create_shows_the_password_once_and_the_user_must_change_it(boss, supervisor, client):
    mark = last_id()
    done = _create(boss)
    assert done.status_code == 200
    password = done.context["password"]
    user = get_user_model().objects.get(username="shinjin")
    assert user.check_password(password)
    assert list(user.groups.values_list("name", flat=True)) == ["窓口担当"]
    assert AccountState.objects.get(user=user).must_change_password
    [entry] = _account_entries(mark)
    assert (entry.action, entry.user, entry.subject_ids) == ("user_created", supervisor, [user.pk])
    assert entry.conditions["role"] == "resident_clerk"
    assert password not in str(entry.conditions)

    # The first login: every page sends the new user to the change of password until it is done.
    assert login(client, "shinjin", password).status_code == 302
    for url in (reverse("home"), reverse("registry:search")):
        assert client.get(url)["Location"] == reverse("accounts:password_change")
    weak = client.post(
        reverse("accounts:password_change"),
        {"old_password": password, "new_password1": "short1", "new_password2": "short1"},
    )
    assert weak.status_code == 200
    assert "12" in weak.content.decode()
    mark = last_id()
    changed = client.post(
        reverse("accounts:password_change"),
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert client.get(reverse("home")).status_code == 200  # still signed in, and free to go
    assert not AccountState.objects.get(user=user).must_change_password
    [entry] = _account_entries(mark)
    assert (entry.action, entry.conditions) == ("password_changed", {"forced": True})


def test_the_username_must_be_new(boss, staff_clerk):
    response = boss.post(
        reverse("accounts:user_create"),
        {"username": "MADOGUCHI", "last_name": "x", "role": "resident_clerk", "step": "confirm"},
    )
    assert "すでに使われています" in response.content.decode()


def _act(boss, user, action: str, **data):
    url = reverse("accounts:user_action", args=[user.pk, action])
    assert boss.get(url).status_code == 200  # the 確認 page (or the role form)
    return boss.post(url, {"step": "commit", **data})


def test_disable_and_enable_through_the_confirm_page(boss, supervisor, staff_clerk, client):
    login(client, "madoguchi")
    mark = last_id()
    assert _act(boss, staff_clerk, "disable").status_code == 302
    staff_clerk.refresh_from_db()
    assert not staff_clerk.is_active
    assert client.get(reverse("home")).status_code == 302  # the clerk's session ended
    assert _act(boss, staff_clerk, "enable").status_code == 302
    staff_clerk.refresh_from_db()
    assert staff_clerk.is_active
    assert [(e.action, e.user, e.subject_ids) for e in _account_entries(mark)] == [
        ("user_disabled", supervisor, [staff_clerk.pk]),
        ("user_enabled", supervisor, [staff_clerk.pk]),
    ]


def test_role_change(boss, supervisor, staff_clerk):
    url = reverse("accounts:user_action", args=[staff_clerk.pk, "role"])
    confirm = boss.post(url, {"role": "koseki_clerk", "step": "confirm"})
    assert confirm.status_code == 200
    assert list(staff_clerk.groups.values_list("name", flat=True)) == ["窓口担当"]
    mark = last_id()
    assert boss.post(url, {"role": "koseki_clerk", "step": "commit"}).status_code == 302
    assert list(staff_clerk.groups.values_list("name", flat=True)) == ["戸籍担当"]
    [entry] = _account_entries(mark)
    assert (entry.action, entry.conditions["before"], entry.conditions["after"]) == (
        "role_changed",
        "resident_clerk",
        "koseki_clerk",
    )


def test_password_reset_forces_a_change_and_ends_sessions(boss, staff_clerk, client):
    login(client, "madoguchi")
    mark = last_id()
    done = _act(boss, staff_clerk, "reset_password")
    assert done.status_code == 200
    password = done.context["password"]
    staff_clerk.refresh_from_db()
    assert staff_clerk.check_password(password)
    assert not staff_clerk.check_password(PASSWORD)
    assert AccountState.objects.get(user=staff_clerk).must_change_password
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))
    [entry] = _account_entries(mark)
    assert entry.action == "password_reset"
    assert password not in str(entry.conditions)


def test_totp_reset_removes_the_devices(boss, staff_clerk):
    TOTPDevice.objects.create(user=staff_clerk, name="phone", confirmed=True)
    mark = last_id()
    assert _act(boss, staff_clerk, "reset_totp").status_code == 302
    assert not TOTPDevice.objects.filter(user=staff_clerk).exists()
    [entry] = _account_entries(mark)
    assert (entry.action, entry.conditions["devices_removed"]) == ("totp_reset", 1)


def test_no_action_on_oneself_or_on_a_superuser(boss, supervisor):
    admin = get_user_model().objects.create_superuser("root", password="a-real-admin-password-1")
    mark = last_id()
    for target, action in ((supervisor, "disable"), (supervisor, "reset_password"), (admin, "reset_password")):
        response = boss.post(reverse("accounts:user_action", args=[target.pk, action]), {"step": "commit"})
        assert response.status_code == 302
    supervisor.refresh_from_db()
    admin.refresh_from_db()
    assert supervisor.is_active
    assert admin.check_password("a-real-admin-password-1")
    assert _account_entries(mark) == []


def test_the_list_shows_accounts_and_their_state(boss, staff_clerk):
    make_user("kyushoku", is_active=False)
    page = boss.get(reverse("accounts:users")).content.decode()
    assert "madoguchi" in page
    assert "窓口担当" in page
    assert "利用停止" in page
