"""The outbox: a notice row is written with the change that causes it — never for a change that rolled back, never
missing for one that committed."""

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.errors import ServiceError
from common.models import ChangeEvent
from registry import services
from registry.services.entries import NewHousehold
from registry.tests.factories import ResidentFactory
from transfers.models import OutboundNotice
from transfers.routing import NoticeKind, route

pytestmark = pytest.mark.django_db
D = dt.date(2026, 11, 20)


class Rollback(Exception):
    pass


def test_committed_change_has_its_notices_and_the_event_is_routed(as_clerk):
    resident = ResidentFactory()  # 本籍 in 渋谷区
    result = services.move_within(
        [resident], change_date=D, notified_on=D, new_address=NewHousehold("高田馬場一丁目1番")
    )
    (notice,) = OutboundNotice.objects.all()
    assert (notice.kind, notice.receiver, notice.state) == (NoticeKind.FUHYO_ITEMS, "131130", "pending")
    assert notice.event == result.events[0]
    assert ChangeEvent.objects.filter(routed_at__isnull=True).count() == 0


def test_refused_change_writes_no_notice(as_clerk):
    resident = ResidentFactory()
    with pytest.raises(ServiceError):
        services.move_within(
            [resident], change_date=D, notified_on=D, new_address=NewHousehold(resident.household.address)
        )
    assert not OutboundNotice.objects.exists()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(["move", "abroad", "amend"]), st.booleans()), min_size=1, max_size=6))
def test_notices_match_committed_changes_exactly(as_clerk, steps):
    """Random sequences of changes, some rolled back after the service returned: every committed event has exactly
    the notices its routing says, and no rolled-back change left one."""
    with transaction.atomic():  # each example starts from the same database: this block is rolled back at its end
        for number, (action, roll_back) in enumerate(steps):
            resident = ResidentFactory(household__number=f"8{number:09d}")
            try:
                with transaction.atomic():
                    if action == "move":
                        services.move_within(
                            [resident], change_date=D, notified_on=D, new_address=NewHousehold(f"戸山{number}番")
                        )
                    elif action == "abroad":  # a removal the 本籍地 is told of (a death or a 転出 is not)
                        services.move_out(
                            [resident], planned_date=D, notified_on=D, destination_country="アメリカ合衆国"
                        )
                    else:
                        services.ex_officio_amendment(
                            resident, {"given_name_kana": "タロー"}, change_date=D, note="誤記"
                        )
                    if roll_back:
                        raise Rollback
            except Rollback:
                pass
        committed = sum(1 for _, rolled in steps if not rolled)
        events = list(ChangeEvent.objects.all())
        assert len({e.resident_id for e in events}) == committed
        for event in events:
            expected = sorted((p.kind, p.receiver) for p in route(event))
            assert sorted(event.notices.values_list("kind", "receiver")) == expected
        assert OutboundNotice.objects.count() == sum(len(route(e)) for e in events) == committed
        transaction.set_rollback(True)
