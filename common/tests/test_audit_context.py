"""The audit context names who acted and through which request, in the history rows, the change events and
django-auditlog's change history alike."""

import datetime as dt
import uuid

import pytest
from auditlog.models import LogEntry

from common.context import MissingAuditContext, audit_context, current, current_request_id
from common.events import record_event
from common.models import ChangeEvent
from common.testing.actors import as_system
from registry import services
from registry.models import Household, Resident, ResidentChange
from registry.services.entries import NewHousehold, PersonData
from transfers.models import OutboundNotice

pytestmark = pytest.mark.django_db


def test_context_is_entered_and_left():
    assert current() is None
    with audit_context(None, "command:test", request_id="req-1") as ctx:
        assert current() is ctx
        assert current_request_id() == "req-1"
    assert current() is None


def test_batch_change_names_actor_and_request_everywhere(clerk, frozen_today):
    with audit_context(clerk.pk, "command:import", request_id="batch-42"):
        result = services.ex_officio_entry(
            [PersonData("佐藤", "健太", "サトウ", "ケンタ", dt.date(1990, 1, 1), "1", "世帯主")],
            change_date=dt.date(2026, 11, 1),
            new_household=NewHousehold("四谷一丁目1番"),
            note="実態調査",
        )
    resident = result.residents[0]
    change = ResidentChange.objects.get(resident=resident)
    assert (change.recorded_by, change.source, change.request_id) == (clerk, "command:import", "batch-42")
    event = ChangeEvent.objects.get(resident=resident)
    assert (event.actor, event.request_id) == (clerk, "batch-42")
    entry = LogEntry.objects.get_for_object(resident).get()
    assert entry.actor == clerk
    assert entry.cid == "batch-42"


def test_web_request_carries_request_id_header(client, clerk):
    client.force_login(clerk)
    response = client.get("/")
    assert response.status_code == 200
    assert len(response["X-Request-ID"]) == 32
    assert Resident.objects.count() == 0


def _written() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Resident, Household, ResidentChange, ChangeEvent, LogEntry, OutboundNotice)
    }


def test_a_service_called_without_an_actor_raises_and_writes_nothing(frozen_today):
    assert current() is None
    before = _written()
    with pytest.raises(MissingAuditContext, match="audit_context"):
        services.ex_officio_entry(
            [PersonData("佐藤", "健太", "サトウ", "ケンタ", dt.date(1990, 1, 1), "1", "世帯主")],
            change_date=dt.date(2026, 11, 1),
            new_household=NewHousehold("四谷一丁目1番"),
            note="実態調査",
        )
    assert _written() == before
    assert not ResidentChange.objects.filter(source="unknown").exists()


def test_a_change_event_without_an_actor_is_refused():
    with pytest.raises(MissingAuditContext):
        record_event(ChangeEvent.Kind.RESIDENT_AMENDED, uuid.uuid4(), "職権修正", {})
    assert not ChangeEvent.objects.exists()


def test_the_system_acts_with_no_user_but_a_named_source(frozen_today):
    with as_system("task:test"):
        result = services.ex_officio_entry(
            [PersonData("佐藤", "健太", "サトウ", "ケンタ", dt.date(1990, 1, 1), "1", "世帯主")],
            change_date=dt.date(2026, 11, 1),
            new_household=NewHousehold("四谷一丁目1番"),
            note="実態調査",
        )
    change = ResidentChange.objects.get(resident=result.residents[0])
    assert (change.recorded_by, change.source) == (None, "task:test")
