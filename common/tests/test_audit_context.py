"""The audit context names who acted and through which request, in the history rows, the change events and
django-auditlog's change history alike."""

import datetime as dt

import pytest
from auditlog.models import LogEntry

from common.context import audit_context, current, current_request_id
from common.models import ChangeEvent
from registry import services
from registry.models import Resident, ResidentChange
from registry.services.entries import NewHousehold, PersonData

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
