"""Lockout (django-axes, per 職員ID): 5 failures lock the ID for a 15-minute cool-off; an unknown ID gets the same
answer, the same work (one password hash per attempt) and the same lock as a wrong password; a supervisor may lift a
lock; every attempt, lockout and lift is one `account` entry."""

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.urls import reverse

from audit.models import AuditLogEntry
from audit.tests.screens import entries_after, last_id

from ..lockout import current_locks
from .conftest import PASSWORD, login, make_user, without_tokens

pytestmark = pytest.mark.django_db

LOCKED_TEXT = "一時的にログインできません"


def _fail(client, username: str, times: int = 1):
    response = None
    for _ in range(times):
        response = login(client, username, "not-the-password-123")
    return response


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failures_lock_the_account_even_against_the_right_password(client, clock):
    make_user("madoguchi")
    mark = last_id()
    for _ in range(4):
        response = _fail(client, "madoguchi")
        assert response.status_code == 200
        assert LOCKED_TEXT not in response.content.decode()
    fifth = _fail(client, "madoguchi")
    assert fifth.status_code == 200
    assert LOCKED_TEXT in fifth.content.decode()
    clock.advance(minutes=1)
    response = login(client, "madoguchi", PASSWORD)
    assert LOCKED_TEXT in response.content.decode()
    assert not _signed_in(client)
    entries = entries_after(mark)
    assert [(e.category, e.action, e.outcome) for e in entries] == [
        *[("account", "login_failed", "denied")] * 5,
        ("account", "locked_out", "denied"),
        ("account", "login_failed", "denied"),
    ]
    assert entries[5].conditions == {"failures": 5, "minutes": 15}
    assert entries[6].conditions == {"locked": True}  # refused without checking the password
    assert {e.username for e in entries} == {"madoguchi"}
    assert all(PASSWORD not in str(e.conditions) for e in entries)


def test_the_cool_off_ends_the_lock_by_itself(client, clock):
    make_user("madoguchi")
    _fail(client, "madoguchi", 5)
    clock.advance(minutes=14, seconds=50)
    assert LOCKED_TEXT in login(client, "madoguchi", PASSWORD).content.decode()
    assert not _signed_in(client)
    clock.advance(seconds=11)  # 15 minutes after the lockout: the refused attempt did not extend it
    response = login(client, "madoguchi", PASSWORD)
    assert response.status_code == 302
    assert _signed_in(client)


def test_failures_spread_beyond_the_window_do_not_lock(client, clock):
    make_user("madoguchi")
    _fail(client, "madoguchi", 4)
    clock.advance(minutes=16)
    response = _fail(client, "madoguchi")
    assert LOCKED_TEXT not in response.content.decode()
    assert login(client, "madoguchi", PASSWORD).status_code == 302


def test_a_successful_login_starts_the_count_again(client, clock):
    make_user("madoguchi")
    _fail(client, "madoguchi", 4)
    assert login(client, "madoguchi", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    response = _fail(client, "madoguchi", 4)
    assert LOCKED_TEXT not in response.content.decode()


def test_an_unknown_id_gets_the_same_answer_and_the_same_lock(client, clock):
    make_user("madoguchi")
    known, unknown = [], []
    for _ in range(6):
        known.append(_fail(client, "madoguchi"))
        unknown.append(_fail(client, "madoguchz"))  # the same length: the pages differ only in the typed ID
    for a, b in zip(known, unknown, strict=True):
        assert a.status_code == b.status_code
        assert without_tokens(a.content.decode()).replace("madoguchi", "ID") == without_tokens(
            b.content.decode()
        ).replace("madoguchz", "ID")
    assert LOCKED_TEXT not in known[3].content.decode()
    assert LOCKED_TEXT in known[4].content.decode()
    assert LOCKED_TEXT in unknown[4].content.decode()
    assert {lock.username for lock in current_locks()} == {"madoguchi", "madoguchz"}
    locked_out = AuditLogEntry.objects.filter(action="locked_out").values_list("username", flat=True)
    assert sorted(locked_out) == ["madoguchi", "madoguchz"]


def test_every_attempt_hashes_a_password_once_known_unknown_or_locked(client, clock, monkeypatch):
    """The same work for every answer (no timing measured: the hasher's calls are counted)."""
    make_user("madoguchi")
    calls = []
    original = MD5PasswordHasher.encode
    monkeypatch.setattr(MD5PasswordHasher, "encode", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))

    def hashes(username: str) -> int:
        calls.clear()
        _fail(client, username)
        return len(calls)

    assert hashes("madoguchi") == 1  # wrong password: the stored hash is checked
    assert hashes("nobody-here") == 1  # unknown ID: Django's ModelBackend hashes anyway
    _fail(client, "madoguchi", 4)
    assert hashes("madoguchi") == 1  # locked: the lockout backend hashes before refusing


def test_a_supervisor_sees_and_lifts_a_lock(client, clock, supervisor):
    make_user("madoguchi")
    _fail(client, "madoguchi", 5)
    boss = type(client)()
    boss.force_login(supervisor)
    page = boss.get(reverse("accounts:users"))
    assert "ロック中" in page.content.decode()
    confirm = boss.get(reverse("accounts:lock_lift"), {"username": "madoguchi"})
    assert confirm.status_code == 200
    assert [lock.username for lock in current_locks()] == ["madoguchi"]  # the confirm page changes nothing
    mark = last_id()
    done = boss.post(reverse("accounts:lock_lift"), {"username": "madoguchi", "step": "commit"})
    assert done.status_code == 302
    assert current_locks() == []
    entry = entries_after(mark, category="account").pop()
    assert (entry.action, entry.user, entry.conditions["target_username"]) == (
        "lockout_lifted",
        supervisor,
        "madoguchi",
    )
    assert login(client, "madoguchi", PASSWORD).status_code == 302
