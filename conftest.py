# ruff: noqa: S106 - throwaway passwords of test users
"""Test personas and shared fixtures (healthchecks' alice/bob idea): a resident clerk, a koseki clerk, a supervisor,
an operator (the one set of persona fixtures: app test folders do not define their own), the acting clerk, and the
pinned clock."""

import datetime as dt

import pytest

from common.testing.actors import acting_as
from common.testing.clock import CALENDAR_TEST_FILES, JST, TODAY, pinned_instant
from common.testing.personas import persona


def pytest_collection_modifyitems(items):
    """The calendar-sensitive tests carry the `calendar` marker (`make test-calendar` runs them on other days)."""
    for item in items:
        if item.nodeid.split("::", 1)[0] in CALENDAR_TEST_FILES:
            item.add_marker(pytest.mark.calendar)


@pytest.fixture(autouse=True)
def _pinned_clock(request, time_machine):
    """Every test runs at one fixed instant (common/testing/clock.py: TEST_TODAY / TEST_TIME override it), with the
    clock ticking from there, so no test depends on the real day or time of day. A test names its own instant with
    `@pytest.mark.time_machine(...)` or `time_machine.move_to(...)`; tests that start other processes (which keep the
    real clock) are marked `real_clock`."""
    if request.node.get_closest_marker("real_clock") or request.node.get_closest_marker("time_machine"):
        return
    time_machine.move_to(pinned_instant())


@pytest.fixture
def clerk(django_user_model):
    return django_user_model.objects.create_user(username="clerk", password="pass-for-tests-only", last_name="窓口")


@pytest.fixture
def koseki_clerk(django_user_model):
    return django_user_model.objects.create_user(username="koseki", password="pass-for-tests-only", last_name="戸籍")


@pytest.fixture
def staff_clerk(db):
    """窓口担当 (madoguchi): the resident clerk's role, for the screens and the permissions it opens. `clerk` above
    is the acting clerk of services called directly, in no role."""
    from common.roles import RESIDENT_CLERK

    return persona("madoguchi", RESIDENT_CLERK, last_name="窓口")


@pytest.fixture
def supervisor(db):
    """監督者 (kantoku): the supervisor role, every screen and permission of common/roles.py's SUPERVISOR."""
    from common.roles import SUPERVISOR

    return persona("kantoku", SUPERVISOR, last_name="監督")


@pytest.fixture
def operator(db):
    """運用担当 (unyou): the operator role, the read-only admin without personal data."""
    from common.roles import OPERATOR

    return persona("unyou", OPERATOR, last_name="運用")


@pytest.fixture
def as_clerk(clerk):
    """Everything inside the test runs as if the clerk did it through the web. A test that calls a service needs an
    actor (common.context.MissingAuditContext): this fixture, `acting_as(user)` or `as_system()`."""
    with acting_as(clerk) as ctx:
        yield ctx


@pytest.fixture
def frozen_today(request, time_machine) -> dt.date:
    """A named working day (Wednesday 2026-11-25, from 10:00 JST) for the date rules, whatever TEST_TODAY says. The
    clock ticks on: retry loops and timeouts measure time with it. A `real_clock` test keeps the real day (the
    processes it starts could not share another)."""
    if request.node.get_closest_marker("real_clock"):
        return dt.date.today()  # noqa: DTZ011 - the real clock, as the test's other processes see it
    time_machine.move_to(dt.datetime.combine(TODAY, dt.time(10), tzinfo=JST))
    return TODAY


def _ensure_reference_data() -> None:
    """What data migrations put in: the municipality table and the ends of the audit chain's lanes."""
    from django.conf import settings

    from audit.models import AuditChainHead
    from common.models import Municipality
    from common.municipalities import BUNDLED_TABLE, load_rows, read_table

    if not Municipality.objects.filter(code="131041").exists():
        load_rows(read_table(BUNDLED_TABLE))
    lanes = max(1, settings.AUDIT_CHAIN_LANES)
    AuditChainHead.objects.bulk_create([AuditChainHead(pk=lane + 1) for lane in range(lanes)], ignore_conflicts=True)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """A test database kept with --reuse-db (make test-calendar) was last emptied by a transactional test's flush,
    which also empties the tables a data migration filled: put the reference data back once per session."""
    with django_db_blocker.unblock():
        _ensure_reference_data()


@pytest.fixture
def reference_data(django_db_blocker):
    """The municipality table, for transactional tests: their flush empties the tables a data migration filled."""
    with django_db_blocker.unblock():
        _ensure_reference_data()
