"""Queueing after commit, the sweeper that catches up on everything the queue lost, and the nightly batch command."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from kombu.exceptions import OperationalError

from audit.models import BatchRun
from common.batch import BatchExit
from common.juminhyo_codes import juminhyo_code_for
from registry import services
from registry.services.entries import NewHousehold
from registry.tests.factories import ResidentFactory
from transfers import delivery, tasks
from transfers.delivery import Outcome
from transfers.models import OutboundNotice, Partner
from transfers.routing import JLIS

from .fake_partner import (
    fake_cs_fixture,  # noqa: F401 - the `fake_cs` fixture
    make_notice,
    other_server_fixture,  # noqa: F401 - the `other_server` fixture
    partner_server_fixture,  # noqa: F401 - the `partner_server` fixture
    ward_identity_for_tests_fixture,  # noqa: F401 - the `ward_identity_for_tests` fixture
)

pytestmark = pytest.mark.django_db
State = OutboundNotice.State
D = dt.date(2026, 11, 20)


def _broker_down(*args, **kwargs):
    raise OperationalError("[Errno 111] Connection refused")


@pytest.fixture
def queued(monkeypatch) -> list[tuple[int, float | None]]:
    """What would have gone to the broker."""
    calls: list[tuple[int, float | None]] = []
    monkeypatch.setattr(tasks, "publish", lambda notice_id, expires=None: calls.append((notice_id, expires)))
    return calls


def _move(resident) -> None:
    services.move_within([resident], change_date=D, notified_on=D, new_address=NewHousehold("高田馬場一丁目1番"))


def test_notices_are_queued_after_the_commit(as_clerk, queued, django_capture_on_commit_callbacks):
    resident = ResidentFactory()  # 本籍 in 渋谷区: one 附票記載事項通知
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _move(resident)
    notice = OutboundNotice.objects.get()
    assert queued == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert queued == [(notice.pk, None)]


def test_broker_down_at_commit_the_clerk_succeeds_and_the_sweeper_delivers(
    as_clerk, monkeypatch, caplog, django_capture_on_commit_callbacks, partner_server
):
    partner_server.register()
    monkeypatch.setattr(tasks.deliver_notice, "apply_async", _broker_down)
    resident = ResidentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _move(resident)  # the service returns normally although the queueing failed
    notice = OutboundNotice.objects.get()
    assert notice.state == State.PENDING
    assert "could not queue 1 notice(s)" in caplog.text
    assert resident.surname not in caplog.text
    # The broker is still down when the sweep runs: it delivers inline.
    assert tasks.sweep_outbox() == {"queued": 0, Outcome.ACKNOWLEDGED: 1}
    notice.refresh_from_db()
    assert notice.state == State.ACKNOWLEDGED
    assert partner_server.received == [str(notice.message_id)]


def test_enqueue_against_an_unreachable_broker_does_not_raise(settings, caplog, monkeypatch):
    """A real broker URL nobody answers (a closed loopback port), not a stub."""
    from config.celery import app

    # Celery reads the CELERY_BROKER_URL environment variable before its own configuration (CI sets it).
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    # Both pools are cached by Celery: a connection made by an earlier test (to the CI's real Redis) must not be
    # reused, or the message would simply be published.
    old_url, old_pool, old_producers = app.conf.broker_url, app._pool, app.amqp._producer_pool
    app.conf.broker_url, app._pool, app.amqp._producer_pool = "redis://127.0.0.1:1/0", None, None
    app.conf.broker_connection_timeout = 1
    try:
        assert tasks.enqueue([1, 2]) == 0
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app.conf.broker_url, app._pool, app.amqp._producer_pool = old_url, old_pool, old_producers
    assert "could not queue 2 notice(s)" in caplog.text


def test_the_sweep_queues_what_is_due_with_an_expiry(settings, queued):
    settings.TRANSFERS_SWEEP_INTERVAL = 5.0
    due = make_notice("131130")
    make_notice("131130", code=juminhyo_code_for(2), next_attempt_at=timezone.now() + dt.timedelta(minutes=5))
    make_notice("131130", code=juminhyo_code_for(3), state=State.ACKNOWLEDGED)
    assert tasks.sweep_outbox() == {"queued": 1}
    assert queued == [(due.pk, 10.0)]


def test_due_ids_include_expired_leases_and_silent_spool_notices_but_not_waiting_ones(settings):
    settings.TRANSFERS_SPOOL_RESEND_AFTER = 60
    now = timezone.now()
    dead = make_notice(
        "131130", code=juminhyo_code_for(11), state=State.SENDING, lease_until=now - dt.timedelta(seconds=1)
    )
    make_notice("131130", code=juminhyo_code_for(12), state=State.SENDING, lease_until=now + dt.timedelta(seconds=10))
    silent = make_notice(JLIS, code=juminhyo_code_for(13), state=State.SENT, sent_at=now - dt.timedelta(minutes=5))
    make_notice(JLIS, code=juminhyo_code_for(14), state=State.SENT, sent_at=now)
    behind = make_notice("131130", code=juminhyo_code_for(11))  # waits for `dead`, about the same person
    assert delivery.count_due() == {("131130", "fuhyo_items"): 1, (JLIS, "fuhyo_items"): 1}  # changes nothing
    assert OutboundNotice.objects.get(pk=silent.pk).state == State.SENT
    assert delivery.due_notice_ids() == [dead.pk, silent.pk]
    assert OutboundNotice.objects.get(pk=silent.pk).state == State.PENDING
    assert behind.pk not in delivery.due_notice_ids()


def test_one_partners_backlog_does_not_fill_a_sweep():
    backlog = [make_notice("131130", code=juminhyo_code_for(100 + i)) for i in range(30)]
    later = make_notice("131032")
    ids = delivery.due_notice_ids(limit=10, per_partner=5)
    assert ids == [n.pk for n in backlog[:5]] + [later.pk]
    Partner.objects.create(
        code="131130",
        name="渋谷区",
        sign_public="x",
        box_public="y",
        paused_until=timezone.now() + dt.timedelta(minutes=1),
    )
    assert delivery.due_notice_ids(limit=10, per_partner=5) == [later.pk]  # a paused partner is not swept


def test_collect_spool_acks_task(fake_cs):
    fake_cs.register()
    notice = make_notice(JLIS, kind="jlis_fuhyo")
    assert delivery.deliver(notice.pk) == Outcome.SENT
    fake_cs.answer_all()
    assert tasks.collect_spool_acks() == {"acknowledged": 1}


def test_the_deliver_task_runs_one_attempt(partner_server):
    partner_server.register()
    notice = make_notice("131130")
    assert tasks.deliver_notice(notice.pk) == Outcome.ACKNOWLEDGED
    assert tasks.deliver_notice(notice.pk) == Outcome.SKIPPED


def test_beat_schedules_the_sweep_and_the_spool_acks(settings):
    from config.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["transfers.tasks.sweep_outbox"] == settings.TRANSFERS_SWEEP_INTERVAL
    assert schedule["transfers.tasks.collect_spool_acks"] == settings.TRANSFERS_SWEEP_INTERVAL


# --- the nightly batch -------------------------------------------------------------------------------------------


def test_command_dry_run_changes_nothing(capsys, partner_server):
    partner_server.register()
    notice = make_notice("131130")
    call_command("send_pending_notifications", "--dry-run")
    out = capsys.readouterr().out
    assert "131130\tfuhyo_items\t1" in out
    assert "送信対象 1 件" in out
    notice.refresh_from_db()
    assert notice.state == State.PENDING
    assert partner_server.received == []


def test_command_delivers_everything_due_in_order(capsys, partner_server, fake_cs):
    partner_server.register()
    fake_cs.register()
    first = make_notice("131130", code=juminhyo_code_for(1))
    second = make_notice("131130", code=juminhyo_code_for(1))  # waits for the first, delivered in a later round
    spooled = make_notice(JLIS, kind="jlis_fuhyo")
    call_command("send_pending_notifications")
    assert "送信 3 件（受領確認 2 件）・再試行 0 件・失敗 0 件" in capsys.readouterr().out
    states = dict(OutboundNotice.objects.values_list("pk", "state"))
    assert states == {first.pk: State.ACKNOWLEDGED, second.pk: State.ACKNOWLEDGED, spooled.pk: State.SENT}
    assert partner_server.received == [str(first.message_id), str(second.message_id)]


def test_command_limit(partner_server):
    partner_server.register()
    make_notice("131130", code=juminhyo_code_for(1))
    make_notice("131130", code=juminhyo_code_for(2))
    call_command("send_pending_notifications", "--limit", "1")
    assert OutboundNotice.objects.filter(state=State.ACKNOWLEDGED).count() == 1


def test_command_exits_non_zero_when_something_failed(settings, capsys, partner_server, other_server):
    settings.TRANSFERS_MAX_ATTEMPTS = 1
    partner_server.register()
    other_server.register()
    other_server.mode = "unavailable"
    make_notice("131130")
    make_notice("131032")
    with pytest.raises(BatchExit) as caught:
        call_command("send_pending_notifications")
    assert caught.value.code == 1
    err = capsys.readouterr()
    assert "送信 1 件（受領確認 1 件）" in err.err
    assert "失敗 1 件" in err.err
    assert len(other_server.received) == 1  # attempted once in the run
    # The report: the failed notice, per receiver, in the output and in the run record.
    assert "送信失敗・未接続\t131032\t1" in err.out
    run = BatchRun.objects.get(command="send_pending_notifications")
    assert (run.status, run.exit_code) == (BatchRun.Status.FAILED, 1)
    assert run.counts["failed"] == 1
    assert run.counts["failed_notices"] == 1
    assert run.counts["failed_notices:131032"] == 1
    assert "131130" not in "".join(k for k in run.counts if k.startswith("failed_notices:"))


def test_command_reports_overdue_and_failed_notices_per_receiver(settings, capsys):
    """Nothing due: the run itself is fine, but a notice given up earlier still waits for a supervisor (exit 1),
    and one sent long ago without an acknowledgement is reported as overdue."""
    settings.TRANSFERS_OVERDUE_AFTER = 600
    failed = make_notice("131130")
    failed.state = State.FAILED
    failed.save()
    late = make_notice(JLIS, kind="jlis_fuhyo")
    late.state = State.SENT
    late.sent_at = timezone.now()
    late.save()
    OutboundNotice.objects.filter(pk=late.pk).update(created_at=timezone.now() - dt.timedelta(hours=2))
    fresh = make_notice("131032")
    fresh.state = State.SENT
    fresh.sent_at = timezone.now()
    fresh.save()
    with pytest.raises(BatchExit) as caught:
        call_command("send_pending_notifications")
    assert caught.value.code == 1
    output = capsys.readouterr()
    assert "送信失敗・未接続\t131130\t1" in output.out
    assert f"遅延\t{JLIS}\t1" in output.out
    assert "131032" not in output.out  # sent a moment ago: not overdue
    assert "再送待ちの送信失敗・未接続 1 件・遅延 1 件" in output.err
    run = BatchRun.objects.get()
    assert run.counts["overdue_notices"] == 1
    assert run.counts[f"overdue_notices:{JLIS}"] == 1
    # A dry run reports the same, sends nothing and ends well (it only says what it would do).
    call_command("send_pending_notifications", "--dry-run")
    output = capsys.readouterr()
    assert "送信失敗・未接続\t131130\t1" in output.out
    assert "【試行】送信対象 0 件（送信していません）／再送待ちの送信失敗・未接続 1 件・遅延 1 件" in output.out


def test_command_without_problems_exits_zero(capsys):
    call_command("send_pending_notifications")
    out = capsys.readouterr().out
    assert "再送待ちの送信失敗・未接続 0 件・遅延 0 件" in out
    assert BatchRun.objects.get().status == BatchRun.Status.SUCCEEDED


def test_beat_runs_the_command_nightly():
    from config.celery import app

    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == "audit.tasks.run_batch_command"]
    assert ("send_pending_notifications",) in [tuple(e.get("args", ())) for e in entries]
