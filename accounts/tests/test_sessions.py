"""Sessions: ended after ACCOUNT_IDLE_TIMEOUT without a request, ended 8 hours after the login however active (not
sliding), and ended at once — every one of them — when the user is disabled. Each ending is one `account` entry."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from audit.models import AuditLogEntry
from audit.tests.screens import entries_after, last_id

from ..models import AccountState, UserSession
from ..services import set_active
from .conftest import PASSWORD, login, make_user

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-brand-new-passphrase-77"  # noqa: S105


def _home(client):
    return client.get(reverse("home"))


def _sent_to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_idle_timeout_ends_the_session_with_one_entry(client, clock, settings):
    settings.ACCOUNT_IDLE_TIMEOUT = 900
    make_user("madoguchi")
    assert login(client, "madoguchi").status_code == 302
    for _ in range(3):  # active: a request every 14 minutes keeps the session
        clock.advance(minutes=14)
        assert _home(client).status_code == 200
    mark = last_id()
    clock.advance(minutes=15)
    response = _home(client)
    assert _sent_to_login(response)
    assert [(e.category, e.action, e.username) for e in entries_after(mark)] == [
        ("account", "idle_timeout", "madoguchi")
    ]
    assert _sent_to_login(_home(client))  # the session is gone, not just refused once
    page = client.get(response["Location"])
    assert "一定時間操作がなかったため" in page.content.decode()
    assert not UserSession.objects.exists()


def test_the_idle_limit_is_a_setting(client, clock, settings):
    settings.ACCOUNT_IDLE_TIMEOUT = 120
    make_user("madoguchi")
    login(client, "madoguchi")
    clock.advance(minutes=3)
    assert _sent_to_login(_home(client))


def test_the_lifetime_is_absolute_even_for_an_active_user(client, clock, settings):
    settings.ACCOUNT_IDLE_TIMEOUT = 900
    assert settings.ACCOUNT_SESSION_MAX_AGE == 8 * 60 * 60
    make_user("madoguchi")
    login(client, "madoguchi")
    for _ in range(47):  # a request every 10 minutes for 7 h 50 min
        clock.advance(minutes=10)
        assert _home(client).status_code == 200
    mark = last_id()
    clock.advance(minutes=10)  # 8 hours after the login
    assert _sent_to_login(_home(client))
    assert [e.action for e in entries_after(mark)] == ["session_expired"]


def test_disabling_a_user_ends_all_their_sessions_at_once(clock, supervisor):
    user = make_user("madoguchi")
    desk, laptop = Client(), Client()
    login(desk, "madoguchi")
    login(laptop, "madoguchi")
    assert UserSession.objects.filter(user=user).count() == 2
    keys = set(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    mark = last_id()
    ended = set_active(supervisor, user, False)
    assert ended == 2
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not UserSession.objects.filter(user=user).exists()
    assert _sent_to_login(_home(desk))
    assert _sent_to_login(_home(laptop))
    entry = entries_after(mark, category=AuditLogEntry.Category.ACCOUNT)[0]
    assert (entry.action, entry.user, entry.subject_ids) == ("user_disabled", supervisor, [user.pk])
    assert entry.conditions["sessions_ended"] == 2


def test_disabling_outside_the_screen_ends_the_sessions_too(client, clock):
    """The Django admin or the shell: a post_save receiver, not only the service."""
    user = make_user("madoguchi")
    login(client, "madoguchi")
    key = client.session.session_key
    user.is_active = False
    user.save()
    assert not Session.objects.filter(session_key=key).exists()
    assert _sent_to_login(_home(client))


def test_logout_forgets_the_session(client, clock):
    make_user("madoguchi")
    login(client, "madoguchi")
    assert UserSession.objects.count() == 1
    client.post(reverse("logout"))
    assert not UserSession.objects.exists()


def test_a_rotated_session_does_not_come_back_after_re_enabling(client, clock, supervisor):
    """Finding 8 of issue 12: the forced password change rotates the session id (update_session_auth_hash); only
    the first id was tracked, so disabling left the rotated session in django_session and re-enabling revived it."""
    user = make_user("madoguchi")
    AccountState.objects.create(user=user, must_change_password=True)
    login(client, "madoguchi")
    first_key = client.session.session_key
    changed = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert client.session.session_key != first_key  # the id rotated
    assert _home(client).status_code == 200
    set_active(supervisor, user, False)
    set_active(supervisor, user, True)
    assert _sent_to_login(_home(client))
    assert _sent_to_login(_home(client))  # ended, not refused once


def test_each_disable_ends_sessions_opened_before_it_only(client, clock, supervisor):
    """The generation moves on with each disable: a login after re-enabling works, and survives later requests."""
    user = make_user("madoguchi")
    login(client, "madoguchi")
    set_active(supervisor, user, False)
    set_active(supervisor, user, True)
    fresh = Client()
    assert login(fresh, "madoguchi").status_code == 302
    assert _home(fresh).status_code == 200
    assert _home(fresh).status_code == 200
    assert _sent_to_login(_home(client))
