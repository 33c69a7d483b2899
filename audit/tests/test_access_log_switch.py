"""The benchmark switch AUDIT_ACCESS_LOG_DISABLED_FOR_BENCHMARK (bench/web_bench.py measures what the access log
costs): record_access writes nothing only when it is on together with BENCH_ENDPOINTS, the base settings refuse it
alone, and the production settings refuse it (and BENCH_ENDPOINTS) whatever else is set.

The settings cases import the settings module in a child process: settings are read once per process."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import RequestFactory, override_settings
from django.urls import reverse

from audit.log import record_access
from audit.models import AuditLogEntry
from common.roles import RESIDENT_CLERK, assign_role

STRONG_SECRET = "k3Jq8vZ0-tR7yW2pL5nC9xB4mH6gF1dS0aQeUiOoPzXcVbNmLk"  # noqa: S105 - a throwaway key for a test
SWITCH = "AUDIT_ACCESS_LOG_DISABLED_FOR_BENCHMARK"
PRINT = "from django.conf import settings as s; print(s.BENCH_ENDPOINTS, s.AUDIT_ACCESS_LOG_DISABLED_FOR_BENCHMARK)"


def _import_settings(module: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "BENCH_", "AUDIT_", "DATABASE_URL", "CELERY_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE=module,
        DJANGO_SECRET_KEY=STRONG_SECRET,
        DJANGO_DEBUG="false",
        CELERY_BROKER_URL="memory://",
        **env,
    )
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", f"import django; django.setup(); {PRINT}"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "env",
    [{SWITCH: "true", "BENCH_ENDPOINTS": "true"}, {SWITCH: "true"}, {"BENCH_ENDPOINTS": "true"}],
    ids=["both", "switch only", "endpoints only"],
)
def test_the_production_settings_refuse_the_benchmark_hooks(env):
    result = _import_settings("config.settings_production", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert SWITCH in result.stderr


def test_the_production_settings_start_without_them():
    """The control of the test above: the same child process starts when the hooks are not asked for."""
    result = _import_settings("config.settings_production")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_the_base_settings_take_the_switch_only_with_the_bench_endpoints():
    alone = _import_settings("config.settings", **{SWITCH: "true"})
    assert alone.returncode != 0
    assert "needs BENCH_ENDPOINTS=true" in alone.stderr
    both = _import_settings("config.settings", **{SWITCH: "true", "BENCH_ENDPOINTS": "true"})
    assert both.returncode == 0, both.stderr
    assert both.stdout.split() == ["True", "True"]


@pytest.fixture
def request_of_clerk(clerk):
    request = RequestFactory().get("/residents/")
    request.user = clerk
    return request


def _access_entries() -> int:
    return AuditLogEntry.objects.filter(category=AuditLogEntry.Category.ACCESS).count()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("endpoints", "switch", "written"),
    [(False, False, 1), (False, True, 1), (True, False, 1), (True, True, 0)],
)
def test_record_access_writes_nothing_only_when_the_switch_is_on(request_of_clerk, endpoints, switch, written):
    with override_settings(BENCH_ENDPOINTS=endpoints, AUDIT_ACCESS_LOG_DISABLED_FOR_BENCHMARK=switch):
        entry = record_access(request_of_clerk, "search.resident_search", AuditLogEntry.Outcome.SHOWN)
    assert _access_entries() == written
    assert (entry is None) == (written == 0)


@pytest.mark.django_db
def test_a_gated_page_writes_its_entry_unless_switched_off(client, clerk):
    assign_role(clerk, RESIDENT_CLERK)
    client.force_login(clerk)
    url = reverse("registry:search")
    assert client.get(url, {"kana": "ヤマダ"}).status_code == 200
    assert _access_entries() == 1
    with override_settings(BENCH_ENDPOINTS=True, AUDIT_ACCESS_LOG_DISABLED_FOR_BENCHMARK=True):
        assert client.get(url, {"kana": "ヤマダ"}).status_code == 200
    assert _access_entries() == 1
