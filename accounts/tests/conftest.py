# ruff: noqa: S106 - throwaway passwords of test users
"""Shared fixtures of the account tests: a clock that tests move forward (time travel, no sleeping), users in
roles, TOTP codes computed the way an authenticator app would, and logging in through the login form."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP

from common.roles import ROLES_BY_KEY, assign_role, ensure_roles
from common.testing.personas import PASSWORD

REQUIRED = ("監督者", "運用担当")


class Clock:
    """The test's clock standing still at the pinned instant, moved forward by the test: time-machine moves it for
    Django, the session engine, django-otp (time.time), django-axes, the audit chain and this app alike."""

    def __init__(self, time_machine) -> None:
        self._time_machine = time_machine

    def now(self) -> dt.datetime:
        return timezone.now()

    def advance(self, **delta) -> None:
        self._time_machine.shift(dt.timedelta(**delta))


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    return Clock(time_machine)


@pytest.fixture
def totp_enforced(settings):
    settings.ACCOUNT_REQUIRE_TOTP_FOR = REQUIRED


def make_user(username: str, role_key: str | None = None, **extra):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)
    if role_key:
        assign_role(user, ROLES_BY_KEY[role_key], ensure_roles())
    return user


def code_for(device, offset: int = 0) -> str:
    """The current code of a TOTP device (what the phone shows), or the one `offset` steps later."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():0{device.digits}d}"


def login(client, username: str, password: str = PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def without_tokens(html: str) -> str:
    """A page with its per-response CSRF token removed, for comparing two answers."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
