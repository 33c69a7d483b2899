"""The audit log is append-only and hash-chained: tampering through SQL is found and named."""

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from audit import chain
from audit.models import AuditLogEntry

pytestmark = pytest.mark.django_db


def _append(n: int) -> list[AuditLogEntry]:
    return [
        chain.append(
            category="access",
            action="test.view",
            outcome="shown",
            username="clerk",
            subject_kind="resident",
            subject_ids=[i, i + 1],
            conditions={"q": f"田中{i}"},
        )
        for i in range(n)
    ]


def _verify_exit() -> tuple[int, str]:
    from io import StringIO

    err = StringIO()
    try:
        call_command("verify_audit_chain", stderr=err, stdout=StringIO())
    except SystemExit as exc:
        return exc.code, err.getvalue()
    return 0, err.getvalue()


def _raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What an attacker with superuser rights would do: switch triggers off for the session.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_entries_chain_and_verify():
    entries = _append(3)
    assert entries[0].prev_hash == "0" * 64
    assert entries[1].prev_hash == entries[0].entry_hash
    assert list(chain.verify()) == []
    assert _verify_exit()[0] == 0


def test_altered_row_is_named():
    entries = _append(4)
    _raw("UPDATE audit_auditlogentry SET subject_ids = %s WHERE id = %s", ["[999]", entries[2].pk])
    code, message = _verify_exit()
    assert code == 1
    assert f"#{entries[2].pk}" in message
    assert "改ざん" in message


def test_removed_row_is_named_by_its_successor():
    entries = _append(4)
    _raw("DELETE FROM audit_auditlogentry WHERE id = %s", [entries[1].pk])
    code, message = _verify_exit()
    assert code == 1
    assert f"#{entries[2].pk}" in message


def test_removed_tail_is_found():
    entries = _append(3)
    _raw("DELETE FROM audit_auditlogentry WHERE id = %s", [entries[2].pk])
    code, message = _verify_exit()
    assert code == 1
    assert "末尾" in message


def test_orm_refuses_update_and_delete():
    entry = _append(1)[0]
    entry.outcome = "denied"
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL")
def test_postgresql_trigger_refuses_update_and_delete():
    entry = _append(1)[0]
    for sql in (
        "UPDATE audit_auditlogentry SET outcome = 'denied' WHERE id = %s",
        "DELETE FROM audit_auditlogentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
            c.execute(sql, [entry.pk])
    assert list(chain.verify()) == []


def test_a_nul_typed_into_a_search_is_recorded_visibly_and_the_chain_verifies():
    """PostgreSQL stores no NUL in text or jsonb: the typed conditions keep it as ␀ instead of failing the request."""
    entry = chain.append(
        category="access",
        action="views.search",
        outcome="shown",
        username="clerk\x00",
        conditions={"kana\x00": "ヤマ\x00ダ", "dates": ["\x00"]},
    )
    stored = AuditLogEntry.objects.get(pk=entry.pk)
    assert stored.conditions == {"kana␀": "ヤマ␀ダ", "dates": ["␀"]}
    assert stored.username == "clerk␀"
    assert list(chain.verify()) == []
