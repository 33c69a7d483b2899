import pytest


@pytest.fixture(autouse=True)
def _today(frozen_today):
    return frozen_today
