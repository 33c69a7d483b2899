"""Delivery: claims are exclusive, retries back off with jitter up to a cap, exhausted notices fail, a supervisor
resends, acks are checked and recorded exactly once, the partner's circuit breaker, order per person."""

import datetime as dt
import json
import random
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from audit.models import AuditLogEntry
from common.errors import ServiceError
from common.juminhyo_codes import juminhyo_code_for
from transfers import delivery
from transfers.acks import Ack
from transfers.delivery import Outcome, backoff_delay, claim, deliver, payload_digest, resend
from transfers.models import IdentifierSymbol, OutboundNotice, Partner
from transfers.routing import JLIS

from .fake_partner import (
    PERSON_CODE,
    fake_cs_fixture,  # noqa: F401 - the `fake_cs` fixture
    jlis_server_fixture,  # noqa: F401 - the `jlis_server` fixture
    make_notice,
    other_server_fixture,  # noqa: F401 - the `other_server` fixture
    partner_server_fixture,  # noqa: F401 - the `partner_server` fixture
    ward_identity_for_tests_fixture,  # noqa: F401 - the `ward_identity_for_tests` fixture
)

pytestmark = pytest.mark.django_db
State = OutboundNotice.State


def _entries(action: str, notice: OutboundNotice | None = None) -> list[AuditLogEntry]:
    rows = AuditLogEntry.objects.filter(category=AuditLogEntry.Category.TRANSMISSION, action=action).order_by("id")
    if notice is not None:
        rows = rows.filter(conditions__message_id=str(notice.message_id))
    return list(rows)


def _make_due(notice: OutboundNotice) -> None:
    OutboundNotice.objects.filter(pk=notice.pk).update(next_attempt_at=None)


# --- claim ---------------------------------------------------------------------------------------------------------


def test_claim_is_exclusive_and_counts_the_attempt():
    notice = make_notice("131130")
    first = claim(notice.pk)
    assert first is not None
    assert (first.state, first.attempts) == (State.SENDING, 1)
    assert first.lease_until > timezone.now()
    assert claim(notice.pk) is None  # a second worker gets nothing while the lease runs
    assert claim(999_999) is None


def test_claim_waits_for_the_due_time():
    notice = make_notice("131130", next_attempt_at=timezone.now() + dt.timedelta(minutes=1))
    assert claim(notice.pk) is None
    _make_due(notice)
    assert claim(notice.pk) is not None


def test_a_dead_workers_row_is_reclaimed_after_the_lease_and_the_dead_worker_is_fenced_off():
    notice = make_notice("131130")
    dead = claim(notice.pk)
    OutboundNotice.objects.filter(pk=notice.pk).update(lease_until=timezone.now() - dt.timedelta(seconds=1))
    alive = claim(notice.pk)
    assert alive is not None
    assert alive.attempts == 2
    # The first worker wakes up and reports a failure: its claim (attempt 1) is no longer the row's.
    assert delivery._attempt_failed(dead, "遅れて届いた失敗") == Outcome.SKIPPED
    notice.refresh_from_db()
    assert (notice.state, notice.attempts, notice.last_error) == (State.SENDING, 2, "")
    assert _entries("retried") == []


def test_an_older_unacknowledged_notice_about_the_same_person_goes_first():
    older = make_notice("131130", code=juminhyo_code_for(1))
    newer = make_notice("131130", code=juminhyo_code_for(1))
    other_person = make_notice("131130", code=juminhyo_code_for(2))
    other_receiver = make_notice("131032", code=juminhyo_code_for(1))
    assert claim(newer.pk) is None
    assert claim(other_person.pk) is not None
    assert claim(other_receiver.pk) is not None
    OutboundNotice.objects.filter(pk=older.pk).update(state=State.SENT)  # sent, not yet acknowledged: still waits
    assert claim(newer.pk) is None
    OutboundNotice.objects.filter(pk=older.pk).update(state=State.ACKNOWLEDGED)
    assert claim(newer.pk) is not None


def test_a_failed_older_notice_does_not_hold_back_the_next():
    older = make_notice("131130", code=juminhyo_code_for(1), state=State.FAILED)
    newer = make_notice("131130", code=juminhyo_code_for(1))
    assert older.juminhyo_code == juminhyo_code_for(1)
    assert claim(newer.pk) is not None


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_one_wins():
    """Two threads, two database connections, one row: exactly one claim succeeds (SQLite serialises the writes;
    PostgreSQL re-checks the condition after the row lock)."""
    notice = make_notice("131130")
    barrier = threading.Barrier(2)
    results: list[object] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=5)
            results.append(claim(notice.pk))
        except Exception as exc:  # noqa: BLE001 - reported below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    errors = [r for r in results if isinstance(r, Exception)]
    if errors and connection.vendor == "sqlite":
        pytest.skip(f"SQLite refused the concurrent write ({type(errors[0]).__name__}); PostgreSQL runs this test")
    assert not errors
    assert sorted(r is not None for r in results) == [False, True]
    notice.refresh_from_db()
    assert notice.attempts == 1


# --- backoff -------------------------------------------------------------------------------------------------------


class _Top:
    """An rng that always draws the top of the range: shows the cap of each attempt."""

    def uniform(self, low: float, high: float) -> float:
        return high


def test_backoff_grows_and_is_capped(settings):
    settings.TRANSFERS_BACKOFF_BASE, settings.TRANSFERS_BACKOFF_MAX = 1.0, 30.0
    assert [backoff_delay(n, _Top()) for n in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]
    assert backoff_delay(10_000, _Top()) == 30


def test_backoff_has_full_jitter(settings):
    settings.TRANSFERS_BACKOFF_BASE, settings.TRANSFERS_BACKOFF_MAX = 1.0, 30.0
    rng = random.Random(4)  # noqa: S311 - a seeded sample, not a secret
    samples = [backoff_delay(5, rng) for _ in range(200)]
    assert all(0 <= s <= 16 for s in samples)
    assert min(samples) < 4
    assert max(samples) > 12


# --- delivering over HTTP ------------------------------------------------------------------------------------------


def test_delivery_is_acknowledged_and_audited_without_personal_data(clerk, partner_server):
    partner_server.register()
    notice = make_notice("131130", actor=clerk)
    assert deliver(notice.pk) == Outcome.ACKNOWLEDGED
    notice.refresh_from_db()
    assert notice.state == State.ACKNOWLEDGED
    assert notice.acknowledged_at
    assert notice.sent_at
    assert partner_server.received == [str(notice.message_id)]
    digest = payload_digest(notice.payload)
    assert notice.payload_digest == digest
    (sent,) = _entries("sent", notice)
    (acked,) = _entries("acknowledged", notice)
    for entry in (sent, acked):
        assert entry.user == clerk
        assert entry.conditions["digest"] == digest
        assert entry.conditions["partner"] == "131130"
        text = json.dumps(entry.conditions, ensure_ascii=False)
        assert "試験" not in text
        assert "花子" not in text
        assert PERSON_CODE not in text
    assert acked.conditions["status"] == "accepted"


def test_the_actor_is_the_clerk_of_the_event(clerk, partner_server):
    from common.models import ChangeEvent

    partner_server.register()
    event = ChangeEvent.objects.create(
        kind=ChangeEvent.Kind.RESIDENT_AMENDED,
        change_group="00000000-0000-0000-0000-000000000001",
        reason="x",
        actor=clerk,
    )
    notice = make_notice("131130", event=event)
    assert deliver(notice.pk) == Outcome.ACKNOWLEDGED
    assert _entries("acknowledged", notice)[0].user == clerk


def test_a_duplicate_ack_completes_the_notice(partner_server):
    partner_server.register()
    notice = make_notice("131130")
    partner_server.received.append(str(notice.message_id))  # the partner already has it: it answers 409
    assert deliver(notice.pk) == Outcome.ACKNOWLEDGED
    assert _entries("acknowledged", notice)[0].conditions["status"] == "duplicate"


def test_the_same_notice_delivered_twice_is_acknowledged_once(settings, partner_server):
    partner_server.register()
    notice = make_notice("131130")
    slow = claim(notice.pk)  # worker A claims, then stalls past its lease
    OutboundNotice.objects.filter(pk=notice.pk).update(lease_until=timezone.now() - dt.timedelta(seconds=1))
    assert deliver(notice.pk) == Outcome.ACKNOWLEDGED  # worker B
    # Worker A's send reaches the partner too and comes back with a valid (duplicate) ack.
    late_ack = Ack(header=None, in_reply_to=str(notice.message_id), status="duplicate")
    assert delivery._acknowledge(slow, late_ack, via="http") == Outcome.SKIPPED
    assert deliver(notice.pk) == Outcome.SKIPPED  # and a third task for it does nothing
    assert len(_entries("acknowledged", notice)) == 1
    assert partner_server.received == [str(notice.message_id)]


def test_a_failed_attempt_is_retried_later_with_the_error(settings, partner_server):
    settings.TRANSFERS_BACKOFF_BASE = 2.0
    partner_server.register()
    partner_server.mode = "unavailable"
    notice = make_notice("131130")
    before = timezone.now()
    assert deliver(notice.pk) == Outcome.RETRIED
    notice.refresh_from_db()
    assert notice.state == State.PENDING
    assert notice.attempts == 1
    assert notice.lease_until is None
    assert before <= notice.next_attempt_at <= timezone.now() + dt.timedelta(seconds=2)
    assert "503" in notice.last_error
    (retried,) = _entries("retried", notice)
    assert (retried.outcome, retried.conditions["attempt"], retried.conditions["status"]) == ("error", 1, 503)
    assert _entries("sent", notice) == []


def test_after_the_last_attempt_the_notice_fails_and_is_audited(settings, partner_server):
    settings.TRANSFERS_MAX_ATTEMPTS = 3
    partner_server.register()
    partner_server.mode = "unavailable"
    notice = make_notice("131130")
    outcomes = []
    for _ in range(4):
        Partner.objects.update(paused_until=None)  # the breaker is another test's subject
        _make_due(notice)
        outcomes.append(deliver(notice.pk))
    assert outcomes == [Outcome.RETRIED, Outcome.RETRIED, Outcome.FAILED, Outcome.SKIPPED]
    notice.refresh_from_db()
    assert (notice.state, notice.attempts, notice.next_attempt_at) == (State.FAILED, 3, None)
    assert len(_entries("retried", notice)) == 2
    (failed,) = _entries("failed", notice)
    assert failed.conditions["attempt"] == 3
    assert failed.conditions["digest"] == payload_digest(notice.payload)


def test_a_refusal_fails_at_once(partner_server):
    partner_server.register()
    partner_server.mode = "refuse"
    notice = make_notice("131130")
    assert deliver(notice.pk) == Outcome.FAILED
    notice.refresh_from_db()
    assert notice.attempts == 1
    assert "unknown_sender" in notice.last_error


@pytest.mark.parametrize("active", [None, False])
def test_a_receiver_without_a_connection_is_set_aside_at_once_without_retries(partner_server, clerk, active):
    """A 転入通知 to a municipality that is not a partner used to be retried forever, each attempt in the clerk's
    name, while the banner said nothing: it is now 送信先未接続 after one look, counted on the banner, the system's."""
    from common.models import ChangeEvent

    if active is False:
        partner_server.register(is_active=False)
    event = ChangeEvent.objects.create(
        kind=ChangeEvent.Kind.RESIDENT_ENTERED,
        change_group="00000000-0000-0000-0000-000000000002",
        reason="x",
        actor=clerk,
    )
    notice = make_notice("131130", event=event)
    assert deliver(notice.pk) == Outcome.UNCONNECTED
    notice.refresh_from_db()
    assert (notice.state, notice.next_attempt_at, notice.attempts) == (State.UNCONNECTED, None, 1)
    assert "送信先未接続" in notice.last_error
    assert partner_server.received == []
    (entry,) = _entries("unconnected", notice)
    assert (entry.user, entry.username) == (None, "")
    assert delivery.due_notice_ids(100) == []  # the sweeper does not pick it up again
    _make_due(notice)
    assert deliver(notice.pk) == Outcome.SKIPPED
    assert _entries("retried", notice) == []


def test_registering_the_receiver_sends_what_was_set_aside(partner_server):
    from transfers.keys import public_key_document
    from transfers.partners import register_partner

    notice = make_notice("131130")
    assert deliver(notice.pk) == Outcome.UNCONNECTED
    document = json.dumps(public_key_document(partner_server.identity, "渋谷区"))
    register_partner(document, transport="http", endpoint=partner_server.url)
    notice.refresh_from_db()
    assert notice.state == State.PENDING
    assert notice.pk in delivery.due_notice_ids(100)
    assert deliver(notice.pk) == Outcome.ACKNOWLEDGED


def test_a_retry_is_the_systems_doing(settings, clerk, partner_server):
    from common.models import ChangeEvent

    partner_server.register()
    partner_server.mode = "unavailable"
    event = ChangeEvent.objects.create(
        kind=ChangeEvent.Kind.RESIDENT_AMENDED,
        change_group="00000000-0000-0000-0000-000000000003",
        reason="x",
        actor=clerk,
    )
    notice = make_notice("131130", event=event)
    assert deliver(notice.pk) == Outcome.RETRIED
    partner_server.mode = "ack"
    Partner.objects.update(paused_until=None)
    _make_due(notice)
    assert deliver(notice.pk) == Outcome.ACKNOWLEDGED
    (retried,) = _entries("retried", notice)
    (acknowledged,) = _entries("acknowledged", notice)
    assert retried.user == clerk  # the first attempt: caused by the clerk's change
    assert acknowledged.user is None  # the second: the system's


@pytest.mark.parametrize(("mode", "code"), [("wrong_id", "bad_payload"), ("wrong_key", "bad_signature")])
def test_an_ack_for_another_message_or_from_another_key_is_refused(partner_server, mode, code):
    partner_server.register()
    partner_server.mode = mode
    notice = make_notice("131130")
    assert deliver(notice.pk) == Outcome.RETRIED
    notice.refresh_from_db()
    assert notice.state == State.PENDING
    assert code in notice.last_error
    (rejected,) = _entries("rejected", notice)
    assert (rejected.outcome, rejected.conditions["code"]) == ("denied", code)
    assert _entries("acknowledged") == []


def test_the_jlis_symbol_is_stored_and_never_logged(caplog, jlis_server):
    jlis_server.register()
    jlis_server.symbol = {"juminhyo_code": PERSON_CODE, "symbol": "SYM-SECRET-0042"}
    notice = make_notice(JLIS, kind="jlis_fuhyo")
    with caplog.at_level("DEBUG"):
        assert deliver(notice.pk) == Outcome.ACKNOWLEDGED
    stored = IdentifierSymbol.objects.get(juminhyo_code=PERSON_CODE)
    assert stored.symbol == "SYM-SECRET-0042"
    assert stored.message_id == notice.message_id
    assert "SYM-SECRET" not in caplog.text
    assert all("SYM-SECRET" not in json.dumps(e.conditions) for e in AuditLogEntry.objects.all())


def test_a_symbol_for_another_person_is_ignored(jlis_server):
    jlis_server.register()
    jlis_server.symbol = {"juminhyo_code": juminhyo_code_for(2), "symbol": "SYM-OTHER"}
    notice = make_notice(JLIS, kind="jlis_fuhyo")
    assert deliver(notice.pk) == Outcome.ACKNOWLEDGED
    assert not IdentifierSymbol.objects.exists()


def test_a_symbol_for_a_code_that_fails_its_check_digit_is_ignored(jlis_server, caplog):
    jlis_server.register()
    jlis_server.symbol = {"juminhyo_code": "12345678904", "symbol": "SYM-BAD"}  # deliberately invalid check digit
    notice = make_notice(JLIS, kind="jlis_fuhyo", code="")  # a notice without a person: any code would do
    assert notice.juminhyo_code == ""
    assert deliver(notice.pk) == Outcome.ACKNOWLEDGED
    assert not IdentifierSymbol.objects.exists()
    assert "fails its check" in caplog.text


# --- circuit breaker -----------------------------------------------------------------------------------------------


def test_a_failing_partner_is_paused_and_does_not_hold_up_another(settings, partner_server, other_server):
    settings.TRANSFERS_BREAKER_THRESHOLD = 2
    settings.TRANSFERS_BREAKER_PAUSE = 10.0
    settings.TRANSFERS_BREAKER_PAUSE_MAX = 300.0
    failing = partner_server.register()
    partner_server.mode = "unavailable"
    other_server.register()
    first, second, waiting = (make_notice("131130", code=juminhyo_code_for(10 + i)) for i in range(3))
    assert [deliver(first.pk), deliver(second.pk)] == [Outcome.RETRIED, Outcome.RETRIED]
    failing.refresh_from_db()
    assert failing.consecutive_failures == 2
    assert failing.paused_until > timezone.now()
    # While paused: postponed to the end of the pause, no attempt counted, nothing sent.
    assert deliver(waiting.pk) == Outcome.PAUSED
    waiting.refresh_from_db()
    assert (waiting.attempts, waiting.next_attempt_at) == (0, failing.paused_until)
    assert len(partner_server.received) == 2
    # The other partner is not affected.
    fine = make_notice("131032")
    assert delivery.due_notice_ids() == [fine.pk]
    assert deliver(fine.pk) == Outcome.ACKNOWLEDGED
    # The pause grows with further failures, and one success resets the breaker.
    Partner.objects.filter(pk=failing.pk).update(paused_until=None)
    _make_due(first)
    assert deliver(first.pk) == Outcome.RETRIED
    failing.refresh_from_db()
    pause = failing.paused_until - timezone.now()
    assert failing.consecutive_failures == 3
    assert pause > dt.timedelta(seconds=15)
    Partner.objects.filter(pk=failing.pk).update(paused_until=None)
    partner_server.mode = "ack"
    _make_due(second)
    assert deliver(second.pk) == Outcome.ACKNOWLEDGED
    failing.refresh_from_db()
    assert (failing.consecutive_failures, failing.paused_until) == (0, None)


# --- resend --------------------------------------------------------------------------------------------------------


def test_a_supervisor_resends_a_failed_notice(django_capture_on_commit_callbacks, monkeypatch, clerk):
    queued: list[int] = []
    monkeypatch.setattr("transfers.tasks.publish", lambda notice_id, expires=None: queued.append(notice_id))
    notice = make_notice("131130", state=State.FAILED, attempts=20, last_error="HTTP 503")
    with pytest.raises(ServiceError, match="理由"):
        resend(notice, clerk, "  ")
    with django_capture_on_commit_callbacks(execute=True):
        resent = resend(notice, clerk, "相手の障害が復旧したため")
    assert (resent.state, resent.attempts, resent.resent_count) == (State.PENDING, 0, 1)
    assert queued == [notice.pk]
    (entry,) = _entries("resent", notice)
    assert entry.user == clerk
    assert entry.conditions["reason"] == "相手の障害が復旧したため"
    assert entry.conditions["previous_state"] == "failed"
    with pytest.raises(ServiceError, match="再送できる"):
        resend(resent, clerk, "もう一度")  # pending: nothing to resend


def test_a_long_silent_sent_notice_can_be_resent_but_not_a_fresh_one(settings, clerk):
    settings.TRANSFERS_OVERDUE_AFTER = 600
    fresh = make_notice(JLIS, state=State.SENT, sent_at=timezone.now())
    silent = make_notice(
        JLIS, code=juminhyo_code_for(2), state=State.SENT, sent_at=timezone.now() - dt.timedelta(hours=1)
    )
    with pytest.raises(ServiceError):
        resend(fresh, clerk, "応答がない")
    assert resend(silent, clerk, "応答がない").state == State.PENDING


# --- spool ---------------------------------------------------------------------------------------------------------


def test_spool_round_trip(fake_cs, clerk):
    fake_cs.register()
    notice = make_notice(JLIS, kind="jlis_fuhyo", actor=clerk)
    assert deliver(notice.pk) == Outcome.SENT
    notice.refresh_from_db()
    assert notice.state == State.SENT
    assert notice.sent_at
    assert (fake_cs.root / "out" / f"{notice.message_id}.env").exists()
    assert delivery.collect_spool_acks() == {}  # nothing answered yet
    assert fake_cs.answer_all(symbol={"juminhyo_code": PERSON_CODE, "symbol": "SYM-SPOOL-1"}) == [
        str(notice.message_id)
    ]
    assert delivery.collect_spool_acks() == {"acknowledged": 1}
    notice.refresh_from_db()
    assert notice.state == State.ACKNOWLEDGED
    assert IdentifierSymbol.objects.get().symbol == "SYM-SPOOL-1"
    assert (fake_cs.root / "in" / "done" / f"{notice.message_id}.ack").exists()
    assert delivery.collect_spool_acks() == {}
    assert [e.conditions["via"] for e in _entries("sent", notice) + _entries("acknowledged", notice)] == [
        "spool",
        "spool",
    ]


def test_a_spooled_ack_read_twice_acknowledges_once(fake_cs):
    fake_cs.register()
    notice = make_notice(JLIS, kind="jlis_fuhyo")
    deliver(notice.pk)
    fake_cs.answer_all()
    ack_file = fake_cs.root / "in" / f"{notice.message_id}.ack"
    copy = ack_file.read_bytes()
    assert delivery.collect_spool_acks() == {"acknowledged": 1}
    ack_file.write_bytes(copy)  # the CS writes the same ack again
    assert delivery.collect_spool_acks() == {"skipped": 1}
    assert len(_entries("acknowledged", notice)) == 1


def test_a_spooled_ack_from_another_key_or_for_an_unknown_message_is_rejected(fake_cs):
    from transfers.envelope import Identity

    fake_cs.register()
    notice = make_notice(JLIS, kind="jlis_fuhyo")
    deliver(notice.pk)
    fake_cs.answer_all(identity=Identity.generate(JLIS))  # signed by a key that is not the registered one
    (fake_cs.root / "in" / "garbage.ack").write_bytes(b"not an envelope")
    assert delivery.collect_spool_acks() == {"rejected": 2}
    notice.refresh_from_db()
    assert notice.state == State.SENT
    assert sorted(p.name for p in (fake_cs.root / "in" / "rejected").iterdir()) == [
        f"{notice.message_id}.ack",
        "garbage.ack",
    ]
    assert sorted(e.conditions["code"] for e in _entries("rejected")) == ["bad_signature", "malformed"]
