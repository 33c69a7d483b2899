import pytest

from registry.tests.factories import person_data


@pytest.fixture(autouse=True)
def _today(frozen_today):
    return frozen_today


@pytest.fixture
def person():
    """A PersonData builder: a 世帯主 born 1990 with 本籍 in 大阪市; override any item."""
    return person_data
