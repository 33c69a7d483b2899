"""The audit chain in lanes: concurrent appenders do not wait for one another, each lane chains on its own, and
tampering with any one lane is found by verify_audit_chain and by the seals."""

import threading

import pytest
from django.db import connection, connections, transaction

from audit import chain, seals
from audit.models import AuditChainHead, AuditLogEntry
from transfers.tests.fake_partner import ward_identity_for_tests_fixture  # noqa: F401 - the fixture

from .test_seals import ON_DAY, seal_dir, seal_today, superuser_sql, tomorrow  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def append_on(lane: int, n: int = 1) -> list[AuditLogEntry]:
    entries = []
    for i in range(n):
        connection._audit_chain_lane = lane  # steer this thread's preferred lane
        entries.append(
            chain.append(category="access", action="lane.test", outcome="shown", username="clerk", subject_ids=[i])
        )
    return entries


def test_entries_of_several_lanes_chain_within_their_lane_and_verify():
    first = append_on(2, 2)
    other = append_on(5, 2)
    again = append_on(2)
    assert [e.lane for e in first + other + again] == [2, 2, 5, 5, 2]
    assert first[1].prev_hash == first[0].entry_hash
    assert other[0].prev_hash == "0" * 64  # a lane starts at the genesis hash
    assert again[0].prev_hash == first[1].entry_hash  # skips the other lane's entries
    assert AuditChainHead.objects.get(pk=3).last_entry_id == again[0].pk
    assert list(chain.verify()) == []


def test_a_removed_entry_in_one_lane_is_named_by_its_successor_in_that_lane():
    lane2 = append_on(2, 3)
    append_on(4, 2)
    superuser_sql([("DELETE FROM audit_auditlogentry WHERE id = %s", [lane2[1].pk])])
    problems = list(chain.verify())
    assert [p.entry_id for p in problems] == [lane2[2].pk]


def test_a_removed_tail_of_any_lane_is_found():
    append_on(1, 2)
    lane6 = append_on(6, 2)
    append_on(1)
    superuser_sql([("DELETE FROM audit_auditlogentry WHERE id = %s", [lane6[1].pk])])
    problems = [str(p) for p in chain.verify()]
    assert problems
    assert "末尾" in problems[0]


def test_an_entry_moved_to_another_lane_breaks_both_lanes():
    lane1 = append_on(1, 2)
    append_on(3, 1)
    superuser_sql([("UPDATE audit_auditlogentry SET lane = 3 WHERE id = %s", [lane1[1].pk])])
    assert list(chain.verify())


@ON_DAY
@pytest.mark.usefixtures("seal_dir", "tomorrow")
def test_the_seal_catches_a_rewritten_and_rehashed_lane_that_does_not_hold_the_last_entry():
    rewritten = append_on(3, 3)
    untouched = append_on(0, 2)  # the day's last entry is in lane 0
    seal_today()
    # The owner of the database changes entry #2 of lane 3 and rehashes lane 3 only, moving its end.
    superuser_sql([("UPDATE audit_auditlogentry SET subject_ids = %s WHERE id = %s", ["[999]", rewritten[1].pk])])
    prev, statements = rewritten[0].entry_hash, []
    for entry in AuditLogEntry.objects.filter(lane=3, pk__gt=rewritten[0].pk).order_by("pk"):
        values = {name: getattr(entry, name) for name in chain.HASHED_FIELDS}
        values["occurred_at"] = entry.occurred_at.isoformat(timespec="microseconds")
        values["prev_hash"] = prev
        new_hash = chain.content_hash(values)
        statements.append(
            ("UPDATE audit_auditlogentry SET prev_hash = %s, entry_hash = %s WHERE id = %s", [prev, new_hash, entry.pk])
        )
        prev = new_hash
    statements.append(("UPDATE audit_auditchainhead SET last_hash = %s WHERE id = 4", [prev]))
    superuser_sql(statements)
    assert list(chain.verify()) == []  # the chain alone shows nothing
    assert AuditLogEntry.objects.get(pk=untouched[-1].pk).entry_hash == untouched[-1].entry_hash
    problems = [str(p) for p in seals.verify_seals()]
    assert any(f"#{rewritten[-1].pk}" in p and "系列 3" in p for p in problems), problems


def test_a_lane_added_by_settings_gets_its_end_on_first_use(settings):
    settings.AUDIT_CHAIN_LANES = 12
    AuditChainHead.objects.filter(pk__gt=8).delete()
    entry = append_on(11)[0]
    assert entry.lane == 11
    assert AuditChainHead.objects.get(pk=12).last_entry_id == entry.pk
    assert list(chain.verify()) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks with SKIP LOCKED are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_an_appender_does_not_wait_for_a_lane_held_by_an_open_transaction():
    """One request holds its lane until its transaction ends; another appends at once, on another lane."""
    holding = threading.Event()
    release = threading.Event()
    held_lane: list[int] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                held_lane.append(append_on(0)[0].lane)
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a wait for the held lane would raise instead of passing
        entry = append_on(0)[0]  # prefers the held lane 0, takes the next free one
        assert held_lane == [0]
        assert entry.lane == 1
    finally:
        release.set()
        holder.join(10)
    assert list(chain.verify()) == []
