"""reconcile_registers: differences between 住民票 and 附票 become tasks for clerks, once per person; a difference
that disappeared closes its task; the clerk's page shows both registers side by side, masks restricted persons and
resolves a task with a note."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from audit import restrictions
from audit.models import AuditLogEntry, BatchRun
from audit.tests.screens import entries_after, last_id, user_with
from common.batch import BatchExit
from common.juminhyo_codes import juminhyo_code_for
from koseki_fuhyo.models import FuhyoAddress
from koseki_fuhyo.tests.factories import FuhyoEntryFactory, link_to_koseki
from registry.models import RegisterDiscrepancy
from registry.reconcile import reconcile
from registry.tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db
State = RegisterDiscrepancy.State
VIEW = "registry.view_registerdiscrepancy"
RESOLVE = "transfers.resolve_inboundnotice"


def _run(*args: str) -> int:
    try:
        call_command("reconcile_registers", *args, no_progress=True)
    except BatchExit as exc:
        return exc.code
    return 0


@pytest.fixture
def differing():
    """A resident whose 附票 spells the given name's kana differently."""
    resident = ResidentFactory()
    entry = link_to_koseki(resident)
    entry.given_name_kana = "タロ"
    entry.save()
    return resident, entry


def test_agreeing_registers_open_no_task():
    link_to_koseki(ResidentFactory())
    ResidentFactory()  # 本籍 elsewhere: not reconciled here
    assert _run() == 0
    assert RegisterDiscrepancy.objects.count() == 0
    run = BatchRun.objects.get(command="reconcile_registers")
    assert run.counts["open"] == 0


def test_a_difference_becomes_one_task_and_a_rerun_does_not_duplicate(differing):
    resident, entry = differing
    assert _run() == 1  # open tasks: problems for the run record
    task = RegisterDiscrepancy.objects.get()
    assert (task.juminhyo_code, task.resident, task.fuhyo_entry, task.state) == (
        resident.juminhyo_code,
        resident,
        entry,
        State.OPEN,
    )
    assert task.differences == ["名（カナ）が附票と一致しません"]
    assert _run() == 1
    assert RegisterDiscrepancy.objects.count() == 1
    assert BatchRun.objects.order_by("-pk").first().counts["unchanged"] == 1


def test_dry_run_opens_nothing(differing, capsys):
    assert _run("--dry-run") == 1
    assert RegisterDiscrepancy.objects.count() == 0
    assert "新規 1 件" in capsys.readouterr().err


def test_changed_differences_update_the_open_task(differing):
    resident, entry = differing
    _run()
    entry.surname_kana = "ヤマモト"
    entry.save()
    _run()
    task = RegisterDiscrepancy.objects.get()
    assert set(task.differences) == {"氏（カナ）が附票と一致しません", "名（カナ）が附票と一致しません"}


def test_a_difference_that_disappeared_closes_its_task_with_a_note(differing):
    resident, entry = differing
    _run()
    entry.given_name_kana = resident.given_name_kana
    entry.save()
    assert _run() == 0
    task = RegisterDiscrepancy.objects.get()
    assert task.state == State.RESOLVED
    assert task.resolved_by is None
    assert "自動で処理済" in task.resolution_note
    assert BatchRun.objects.order_by("-pk").first().counts["closed"] == 1


def test_a_resolved_task_comes_back_as_a_new_one_if_the_difference_remains(differing):
    _run()
    task = RegisterDiscrepancy.objects.get()
    task.state = State.RESOLVED
    task.save()
    _run()
    assert RegisterDiscrepancy.objects.filter(state=State.OPEN).count() == 1
    assert RegisterDiscrepancy.objects.count() == 2


def test_a_fuhyo_entry_in_the_ward_without_a_resident_is_a_task():
    entry = FuhyoEntryFactory(juminhyo_code=juminhyo_code_for(1))
    FuhyoAddress.objects.create(
        entry=entry,
        municipality_id="131041",
        address="四谷1番",
        established_on=dt.date(2020, 1, 1),
        recorded_on=dt.date(2020, 1, 1),
        reason="転入",
    )
    reconcile()
    task = RegisterDiscrepancy.objects.get()
    assert (task.resident, task.fuhyo_entry, task.juminhyo_code) == (None, entry, entry.juminhyo_code)
    assert task.differences == ["附票の現住所が区内なのに住民票がありません"]


# --- The clerk's page --------------------------------------------------------------------------------------------


def _client(*permissions: str, username: str = "reconcile-clerk") -> tuple[Client, object]:
    user = user_with(username, VIEW, *permissions)
    client = Client()
    client.force_login(user)
    return client, user


def test_the_list_shows_both_registers_side_by_side_and_names_the_person(differing):
    resident, _ = differing
    _run()
    client, _ = _client()
    mark = last_id()
    page = client.get(reverse("registry:discrepancies"))
    assert page.status_code == 200
    text = page.content.decode()
    assert resident.juminhyo_code in text
    assert "名（カナ）" in text
    assert resident.given_name_kana in text
    assert "タロ" in text
    entries = entries_after(mark, category=AuditLogEntry.Category.ACCESS)
    assert [(e.outcome, e.subject_ids) for e in entries] == [("shown", [resident.pk])]


def test_a_restricted_person_is_masked_in_the_list_and_hidden_on_the_task_page(differing):
    resident, _ = differing
    _run()
    supervisor = user_with("reconcile-supervisor")
    restrictions.restrict(
        actor=supervisor, kind="dv_support", reason="支援措置", starts_on=dt.date(2026, 11, 1), resident=resident
    )
    client, _ = _client(RESOLVE)
    mark = last_id()
    page = client.get(reverse("registry:discrepancies"))
    text = page.content.decode()
    assert "閲覧制限あり" in text
    assert resident.juminhyo_code not in text
    assert resident.surname not in text
    assert entries_after(mark, category=AuditLogEntry.Category.ACCESS)[0].subject_ids == []
    task = RegisterDiscrepancy.objects.get()
    assert client.get(reverse("registry:discrepancy", args=[task.pk])).status_code == 404
    assert client.post(reverse("registry:discrepancy", args=[task.pk]), {"note": "x"}).status_code == 404
    task.refresh_from_db()
    assert task.state == State.OPEN


def test_a_clerk_resolves_a_task_with_a_note(differing):
    resident, _ = differing
    _run()
    task = RegisterDiscrepancy.objects.get()
    client, user = _client(RESOLVE)
    url = reverse("registry:discrepancy", args=[task.pk])
    assert client.post(url, {"note": ""}).status_code == 400
    mark = last_id()
    answer = client.post(url, {"note": "附票のカナを職権で訂正した"})
    assert answer.status_code == 302
    task.refresh_from_db()
    assert (task.state, task.resolved_by, task.resolution_note) == (State.RESOLVED, user, "附票のカナを職権で訂正した")
    logged = entries_after(mark, category=AuditLogEntry.Category.ACCESS)
    assert [(e.outcome, e.subject_ids, e.conditions.get("action")) for e in logged] == [
        ("shown", [resident.pk], "resolve")
    ]
    # Resolved once: a second POST is refused.
    assert client.post(url, {"note": "again"}).status_code == 400


def test_without_the_resolve_permission_the_task_is_shown_but_not_resolved(differing):
    _run()
    task = RegisterDiscrepancy.objects.get()
    client, _ = _client(username="reconcile-operator")
    url = reverse("registry:discrepancy", args=[task.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "処理済にする</button>" not in page.content.decode()
    assert client.post(url, {"note": "x"}).status_code == 400
    task.refresh_from_db()
    assert task.state == State.OPEN


def test_beat_runs_the_reconciliation():
    from config.celery import app

    names = [tuple(e.get("args", ())) for e in app.conf.beat_schedule.values()]
    assert ("reconcile_registers",) in names
