import pytest


@pytest.fixture(autouse=True)
def _today(frozen_today):
    """The date rules of the services run against a fixed day (conftest.py: 2026-11-25)."""
    return frozen_today
