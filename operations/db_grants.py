"""The application's database role on PostgreSQL: what it may do to which table (docs/database-roles.md).

Two roles: the *owner* (owns the schema and every table, runs `migrate`, is never used by the web or the workers)
and the *application* role (what DATABASE_URL names for gunicorn, Celery and beat). The application role gets full
DML on the registers and the working tables, but on the audit tables only what appending needs — no UPDATE, DELETE
or TRUNCATE — so that even a flaw in the application cannot rewrite the record of what it did. The owner is the one
who could; the daily signed seals (audit/seals.py) catch that.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

# Append-only: the access log, its daily seals, the erasure records and the 管理簿.
APPEND_ONLY = (
    "audit_auditlogentry",
    "audit_chainseal",
    "audit_erasurerecord",
    "audit_handoverrecord",
)
# The chain head is one row, moved forward by every append (never deleted).
SPECIAL: dict[str, tuple[str, ...]] = {
    "audit_auditchainhead": ("SELECT", "INSERT", "UPDATE"),
    # The change history (django-auditlog): never changed; rows are deleted only by purge_expired, together with
    # the 除票 / 除附票 they describe after 150 years, each deletion with an erasure record.
    "auditlog_logentry": ("SELECT", "INSERT", "DELETE"),
    # Migrations are the owner's; the application only reads which ran.
    "django_migrations": ("SELECT",),
}
FULL_DML = ("SELECT", "INSERT", "UPDATE", "DELETE")


@dataclass(frozen=True)
class TableGrant:
    table: str
    privileges: tuple[str, ...]


def table_grants() -> list[TableGrant]:
    """Every table of the installed apps (with many-to-many tables) and every table that exists in the database
    (migrations also create tables of their own in SQL, such as the search's name grams), and what the application
    role gets on each."""
    tables = set(connection.introspection.django_table_names(only_existing=False, include_views=False))
    with connection.cursor() as cursor:
        tables |= {t for t in connection.introspection.table_names(cursor) if not t.startswith("sqlite_")}
    tables.add("django_migrations")
    grants = []
    for table in sorted(tables):
        if table in APPEND_ONLY:
            privileges: tuple[str, ...] = ("SELECT", "INSERT")
        else:
            privileges = SPECIAL.get(table, FULL_DML)
        grants.append(TableGrant(table, privileges))
    return grants


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def grant_sql(app_role: str, *, owner_role: str | None = None, schema: str = "public") -> list[str]:
    """The statements, in order: take everything away, then grant table by table. Run them as the owner after every
    `migrate` (new tables get nothing until then: the application fails loudly rather than holding too much)."""
    role, sch = _quote(app_role), _quote(schema)
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {sch} FROM {role};",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {sch} FROM {role};",
        f"REVOKE CREATE ON SCHEMA {sch} FROM {role};",
        f"GRANT USAGE ON SCHEMA {sch} TO {role};",
    ]
    for grant in table_grants():
        statements.append(f"GRANT {', '.join(grant.privileges)} ON TABLE {sch}.{_quote(grant.table)} TO {role};")
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {sch} TO {role};")
    if owner_role:
        # Tables the owner creates later get nothing by default (REVOKE is the default); sequences get usage so
        # that INSERT works once the table's grant is applied.
        statements.append(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {_quote(owner_role)} IN SCHEMA {sch} "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {role};"
        )
    return statements
