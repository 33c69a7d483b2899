"""The application's database role: print_db_grants prints the grants; on PostgreSQL a role given them may append
to the audit log but neither UPDATE, DELETE nor TRUNCATE it."""

import re
import secrets
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from audit import chain
from audit.models import AuditLogEntry
from operations.db_grants import table_grants

pytestmark = pytest.mark.django_db


def _printed(*args: str) -> str:
    out = StringIO()
    call_command("print_db_grants", *args, stdout=out)
    return out.getvalue()


def test_the_audit_tables_get_select_and_insert_only():
    sql = _printed("--app-role", "ward_app")
    assert 'GRANT SELECT, INSERT ON TABLE "public"."audit_auditlogentry" TO "ward_app";' in sql
    assert 'GRANT SELECT, INSERT ON TABLE "public"."audit_chainseal" TO "ward_app";' in sql
    assert 'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public"."registry_resident" TO "ward_app";' in sql
    assert 'GRANT SELECT, INSERT, UPDATE ON TABLE "public"."audit_auditchainhead" TO "ward_app";' in sql
    assert "TRUNCATE" not in "\n".join(line for line in sql.splitlines() if line.startswith("GRANT"))
    assert sql.strip().startswith("--")
    assert sql.strip().endswith("COMMIT;")


def test_every_table_is_named_once():
    tables = [g.table for g in table_grants()]
    assert len(tables) == len(set(tables))
    assert {"audit_auditlogentry", "registry_resident", "django_session", "django_migrations"} <= set(tables)


def test_role_names_are_quoted():
    sql = _printed("--app-role", 'odd"name', "--owner-role", "ward_owner")
    assert '"odd""name"' in sql
    assert 'ALTER DEFAULT PRIVILEGES FOR ROLE "ward_owner"' in sql


def _refused(cursor_sql: str, params=()) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(cursor_sql, params)
    return str(caught.value)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database roles are PostgreSQL's")
def test_a_role_with_the_printed_grants_appends_but_cannot_rewrite():
    role = f"ward_app_test_{secrets.token_hex(4)}"
    sql = _printed("--app-role", role)
    statements = [line for line in sql.splitlines() if re.match(r"^(GRANT|REVOKE|ALTER)", line)]
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')  # inside the test's transaction: rolled back with it
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(f'SET ROLE "{role}"')
    try:
        entry = chain.append(category="access", action="grant.test", outcome="shown", username="app")
        assert AuditLogEntry.objects.filter(pk=entry.pk).exists()
        for statement in (
            "UPDATE audit_auditlogentry SET outcome = 'denied' WHERE id = %s",
            "DELETE FROM audit_auditlogentry WHERE id = %s",
        ):
            assert "permission denied" in _refused(statement, [entry.pk])
        assert "permission denied" in _refused("TRUNCATE audit_auditlogentry")
        assert "permission denied" in _refused("DELETE FROM audit_chainseal")
        # Elsewhere the application works as usual.
        with connection.cursor() as cursor:
            cursor.execute("UPDATE registry_resident SET updated_at = updated_at WHERE id = -1")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert AuditLogEntry.objects.filter(pk=entry.pk, outcome="shown").exists()
