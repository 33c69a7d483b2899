"""Logins, failed logins and logouts are in the audit chain with the typed username — never the password."""

import pytest
from django.urls import reverse

from .screens import PASSWORD, entries_after, last_id, user_with

pytestmark = pytest.mark.django_db


def test_login_logout_and_failed_login_are_logged(client):
    user = user_with("madoguchi")
    mark = last_id()
    response = client.post(reverse("login"), {"username": "madoguchi", "password": "wrong-password-typed"})
    assert response.status_code == 200
    client.post(reverse("login"), {"username": "nosuchuser", "password": "another-secret"})
    client.post(reverse("login"), {"username": "madoguchi", "password": PASSWORD}, REMOTE_ADDR="10.0.0.8")
    client.post(reverse("logout"))
    entries = entries_after(mark)
    assert [(e.category, e.action, e.outcome, e.username) for e in entries] == [
        ("account", "login_failed", "denied", "madoguchi"),
        ("account", "login_failed", "denied", "nosuchuser"),
        ("account", "login", "done", "madoguchi"),
        ("account", "logout", "done", "madoguchi"),
    ]
    assert entries[0].user is None
    assert entries[2].user == user
    assert entries[2].remote_addr == "10.0.0.8"
    assert len(entries[2].session_hash) == 64
    for entry in entries:
        stored = f"{entry.conditions}{entry.path}{entry.subject_ids}"
        assert "wrong-password-typed" not in stored
        assert "another-secret" not in stored
        assert PASSWORD not in stored
