"""The demo accounts of `make run` stay usable under the account rules: no forced password change, and the
supervisor and operator get an authenticator with a known secret, printed with the logins."""

import base64
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.oath import TOTP

from devtools.management.commands.create_demo_users import DEMO_USERS

from .conftest import login

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = StringIO()
    call_command("create_demo_users", force_demo=True, stdout=out)
    return out.getvalue()


def _code(secret_base32: str) -> str:
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    return f"{TOTP(key).token():06d}"


def test_demo_supervisor_signs_in_with_the_printed_secret(client, totp_enforced):
    output = _run()
    secrets = dict(re.findall(r"username=(\S+)\s+totp_secret=([A-Z2-7]+)", output))
    assert set(secrets) == {"supervisor", "supervisor2", "operator"}
    demo = {d.username: d for d in DEMO_USERS}
    assert login(client, "supervisor", demo["supervisor"].password).status_code == 302
    assert client.get(reverse("home"))["Location"].startswith(reverse("accounts:otp_verify"))
    assert client.post(reverse("accounts:otp_verify"), {"token": _code(secrets["supervisor"])}).status_code == 302
    assert client.get(reverse("audit:log")).status_code == 200
    client.post(reverse("logout"))
    assert login(client, "clerk", demo["clerk"].password).status_code == 302
    assert client.get(reverse("home")).status_code == 200  # no forced change, no second factor for a clerk


def test_demo_accounts_stay_the_same_on_a_second_run(totp_enforced):
    _run()
    second = _run()
    assert "[更新]" not in second
    assert "[作成]" not in second
    assert second.count("totp_secret=") == 3  # supervisor, supervisor2, operator
