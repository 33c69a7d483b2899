"""The production settings (config/settings_production.py): `manage.py check --deploy` is clean under them, they
refuse to start in a state that is not fit for production, and a request sees what they promise (HTTPS redirect
except the health check, the TLS proxy's header trusted only when switched on, HSTS, secure cookies).

Each case runs in a child process (the settings are read once per process, and the test process runs on
config.settings_test), with a strong dummy secret and no database, or a migrated SQLite one in a temporary folder."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

# 50+ characters, random-looking: what Django's deploy check (security.W009) accepts.
STRONG_SECRET = "k3Jq8vZ0-tR7yW2pL5nC9xB4mH6gF1dS0aQeUiOoPzXcVbNmLk"  # noqa: S105 - a throwaway key for a test

TIMEOUT = 120


def _run(*args: str, settings_module: str = "config.settings_production", var_dir: str = "", **env: str):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_", "SESSION_", "DATABASE_URL", "CELERY_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        DJANGO_SECRET_KEY=STRONG_SECRET,
        DJANGO_DEBUG="false",
        DJANGO_ENV_FILE="/nonexistent-directory/.env",  # a developer's .env (make run writes one) is not production's
        # No database by default: the checks need none. The requests below get a migrated one in a temporary folder.
        DATABASE_URL=f"sqlite:///{var_dir}/db.sqlite3" if var_dir else "sqlite:////nonexistent-directory/x.sqlite3",
        CELERY_BROKER_URL="memory://",
        WARD_VAR_DIR=var_dir or "/nonexistent-directory",
    )
    environment.update(env)
    environment = {k: v for k, v in environment.items() if v is not None and v != "<unset>"}
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_check_deploy_is_clean_under_the_production_settings():
    result = _run("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_check_deploy_finds_the_development_settings_unfit():
    """The same command under the development settings reports what production adds (the test above can fail)."""
    result = _run("check", "--deploy", "--fail-level", "WARNING", settings_module="config.settings")
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr, result.stderr


def test_production_refuses_debug():
    result = _run("check", DJANGO_DEBUG="true")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be false" in result.stderr


def test_production_refuses_the_builtin_secret_even_when_a_demo_would_allow_it():
    result = _run("check", DJANGO_SECRET_KEY="<unset>", DJANGO_ALLOW_DEV_SECRET="true")
    assert result.returncode != 0
    assert "built-in development key is refused" in result.stderr


def test_production_refuses_a_weak_secret():
    result = _run("check", DJANGO_SECRET_KEY="short-and-guessable")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is too weak" in result.stderr


# What a browser and the health probe see. Printed as JSON by a child process on the production settings.
PROBE = """
import json
from django.conf import settings
from django.test import Client

def seen(response):
    return {
        "status": response.status_code,
        "location": response.get("Location", ""),
        "hsts": response.get("Strict-Transport-Security", ""),
        "csp": response.get("Content-Security-Policy", ""),
        "frame": response.get("X-Frame-Options", ""),
        "referrer": response.get("Referrer-Policy", ""),
        "csrf_cookie_secure": (
            bool(response.cookies["csrftoken"]["secure"]) if "csrftoken" in response.cookies
            else None
        ),
    }

client = Client()
print(json.dumps({
    "debug": settings.DEBUG,
    "plain_login": seen(client.get("/login/")),
    "proxied_login": seen(client.get("/login/", headers={"x-forwarded-proto": "https"})),
    "secure_login": seen(client.get("/login/", secure=True)),
    "plain_health": seen(client.get("/healthz")),
}))
"""


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory) -> str:
    """A migrated SQLite database of its own (the login page reads the municipality table)."""
    folder = str(tmp_path_factory.mktemp("production-var"))
    migrated = _run("migrate", "--noinput", "-v", "0", var_dir=folder)
    assert migrated.returncode == 0, migrated.stderr
    return folder


def _probe(var_dir: str, **env: str) -> dict:
    result = _run(
        "shell", "--no-imports", "-v", "0", "-c", PROBE, var_dir=var_dir, DJANGO_ALLOWED_HOSTS="testserver", **env
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_behind_the_tls_proxy_https_is_required_and_announced(var_dir):
    seen = _probe(var_dir, DJANGO_BEHIND_TLS_PROXY="true")
    assert seen["debug"] is False
    # Plain HTTP is sent to HTTPS; the health check is not (the container probe speaks plain HTTP).
    assert (seen["plain_login"]["status"], seen["plain_login"]["location"]) == (301, "https://testserver/login/")
    assert seen["plain_health"]["status"] == 200
    # The proxy's X-Forwarded-Proto: https makes the request secure: the page, HSTS and a secure CSRF cookie.
    page = seen["proxied_login"]
    assert page["status"] == 200
    assert page["hsts"] == "max-age=31536000; includeSubDomains"
    assert page["csrf_cookie_secure"] is True
    assert (page["frame"], page["referrer"]) == ("DENY", "same-origin")
    assert "script-src 'self'" in page["csp"]
    assert "unsafe-inline" not in page["csp"]


def test_without_the_switch_the_forwarded_header_is_not_trusted(var_dir):
    seen = _probe(var_dir, DJANGO_BEHIND_TLS_PROXY="false")
    assert seen["proxied_login"]["status"] == 301  # a client cannot claim HTTPS with a header of its own
    assert seen["secure_login"]["status"] == 200  # TLS that reaches the application itself still counts
    assert seen["secure_login"]["hsts"].startswith("max-age=31536000")
