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
