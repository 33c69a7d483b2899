"""バッチの実行記録 (/audit/batch/): every run newest first, filters by command and status, summaries and counts;
failed runs stand out. Supervisors and operators only."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from audit.models import AuditLogEntry, BatchRun
from audit.tests.screens import entries_after, last_id, user_with
from common.roles import ensure_roles

pytestmark = pytest.mark.django_db


def _runs() -> tuple[BatchRun, BatchRun, BatchRun]:
    ok = BatchRun.objects.create(
        command="verify_audit_chain", source="task", status="succeeded", exit_code=0, summary="監査ログ 10 件: 完全"
    )
    failed = BatchRun.objects.create(
        command="send_pending_notifications",
        source="task",
        status="failed",
        exit_code=1,
        summary="送信できなかった通知があります",
        counts={"failed_notices:131130": 2},
    )
    dry = BatchRun.objects.create(
        command="purge_expired", source="command", status="succeeded", exit_code=0, dry_run=True, summary="消去予定"
    )
    return ok, failed, dry


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_runs_are_listed_newest_first_with_failed_ones_standing_out():
    ok, failed, dry = _runs()
    client = _client(user_with("batch-reader", "audit.view_batchrun"))
    mark = last_id()
    page = client.get(reverse("audit:batch_runs"))
    assert page.status_code == 200
    text = page.content.decode()
    assert text.index(f"#{dry.pk}<") < text.index(f"#{failed.pk}<") < text.index(f"#{ok.pk}<")
    assert 'class="run-failed"' in text
    assert '<span class="badge failed">異常終了</span>' in text
    assert "failed_notices:131130" in text
    assert '<span class="badge dry-run">試行</span>' in text
    assert "直近の異常終了: send_pending_notifications" in text
    assert [e.outcome for e in entries_after(mark, category=AuditLogEntry.Category.ACCESS)] == ["shown"]


def test_filters_by_command_and_status():
    ok, failed, dry = _runs()
    client = _client(user_with("batch-reader", "audit.view_batchrun"))
    text = client.get(reverse("audit:batch_runs"), {"command": "verify_audit_chain"}).content.decode()
    assert f"#{ok.pk}<" in text
    assert f"#{failed.pk}<" not in text
    text = client.get(reverse("audit:batch_runs"), {"status": "failed"}).content.decode()
    assert f"#{failed.pk}<" in text
    assert f"#{ok.pk}<" not in text
    text = client.get(reverse("audit:batch_runs"), {"failed_only": "on"}).content.decode()
    assert (f"#{failed.pk}<" in text, f"#{dry.pk}<" in text) == (True, False)


def test_supervisors_and_operators_see_the_runs_clerks_do_not(django_user_model):
    _runs()
    groups = ensure_roles()
    for key, expected in (("supervisor", 200), ("operator", 200), ("resident_clerk", 403)):
        user = django_user_model.objects.create_user(username=f"batch-{key}", password="pass-for-tests-only")
        user.groups.add(Group.objects.get(pk=groups[key].pk))
        assert _client(user).get(reverse("audit:batch_runs")).status_code == expected, key


def test_a_run_of_a_real_command_appears():
    from django.core.management import call_command

    call_command("print_db_grants")  # not a batch command: leaves no run record
    call_command("verify_audit_chain", no_progress=True)
    client = _client(user_with("batch-reader", "audit.view_batchrun"))
    text = client.get(reverse("audit:batch_runs")).content.decode()
    assert "verify_audit_chain" in text
    assert BatchRun.objects.count() == 1


def test_every_batch_command_beat_runs_exists_and_is_a_batch_command():
    from django.core.management import get_commands, load_command_class

    from common.batch import BatchCommand
    from config.celery import app

    names = [
        entry["args"][0]
        for entry in app.conf.beat_schedule.values()
        if entry["task"] == "audit.tasks.run_batch_command"
    ]
    assert {"send_pending_notifications", "seal_audit_chain", "verify_audit_chain", "reconcile_registers"} <= set(names)
    assert "purge_expired" in names
    commands = get_commands()
    for name in names:
        assert name in commands, name
        assert isinstance(load_command_class(commands[name], name), BatchCommand), name
