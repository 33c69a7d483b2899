# ruff: noqa: S106 - throwaway passwords of test users
"""Test personas and shared fixtures (healthchecks' alice/bob idea): a resident clerk, a koseki clerk, a supervisor,
an operator, and the batch context."""

import pytest

from common.context import audit_context


@pytest.fixture
def clerk(django_user_model):
    return django_user_model.objects.create_user(username="clerk", password="pass-for-tests-only", last_name="窓口")


@pytest.fixture
def koseki_clerk(django_user_model):
    return django_user_model.objects.create_user(username="koseki", password="pass-for-tests-only", last_name="戸籍")


@pytest.fixture
def as_clerk(clerk):
    """Everything inside the test runs as if the clerk did it through the web."""
    with audit_context(clerk.pk, "test") as ctx:
        yield ctx


TODAY = __import__("datetime").date(2026, 11, 25)


@pytest.fixture
def frozen_today(monkeypatch):
    """A fixed 'today' (2026-11-25) for the date rules, so that tests do not depend on the calendar."""
    monkeypatch.setattr("registry.rules.today", lambda: TODAY)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)
    return TODAY


@pytest.fixture
def reference_data(django_db_blocker):
    """The municipality table, for transactional tests: their flush empties the tables a data migration filled."""
    from common.models import Municipality
    from common.municipalities import BUNDLED_TABLE, load_rows, read_table

    with django_db_blocker.unblock():
        if not Municipality.objects.filter(code="131041").exists():
            load_rows(read_table(BUNDLED_TABLE))
