"""PostgreSQL for the backups: connection parameters from the Django settings, the client tools (pg_dump and
pg_restore of the server's major version), and per-table row counts and checksums.

The checksum of a table is the sum, as an exact numeric, of the first 64 bits of md5(row::text) over its rows: it
does not depend on the physical order of the rows (a restore writes them in a different order), it is computed in
constant memory, and any changed, added or removed row changes it (barring a 2^-64 coincidence). Rows are rendered
as text with the session fixed to UTC, ISO dates and exact floats, so the live database and a restored copy print
the same row the same way.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from psycopg import sql


class OpsError(Exception):
    """A backup or restore check that cannot run (configuration, tools, database): exit code 2. Japanese message."""


# The session settings under which rows are rendered for the checksums.
STABLE_SESSION = (
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET extra_float_digits = 3",
    "SET bytea_output = 'hex'",
)

TABLES_SQL = """
    SELECT n.nspname, c.relname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
     ORDER BY n.nspname, c.relname
"""

CHECKSUM_SQL = (
    "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0)::text "
    "FROM {table} AS t"
)


@dataclass(frozen=True)
class Target:
    """Where the database is and who we are to it. The password travels in PGPASSWORD, never on a command line."""

    name: str
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""
    options: tuple[tuple[str, str], ...] = ()

    def conninfo(self, dbname: str | None = None) -> dict[str, Any]:
        info: dict[str, Any] = {"dbname": dbname or self.name}
        for key in ("host", "port", "user", "password"):
            if getattr(self, key):
                info[key] = getattr(self, key)
        info.update(dict(self.options))
        return info

    def environment(self, dbname: str | None = None) -> dict[str, str]:
        """The environment of pg_dump / pg_restore: the caller's, plus PG* variables for this database."""
        env = dict(os.environ)
        mapping = {"PGDATABASE": dbname or self.name, "PGHOST": self.host, "PGPORT": self.port, "PGUSER": self.user}
        mapping["PGPASSWORD"] = self.password
        for key, value in self.options:
            if key == "sslmode":
                mapping["PGSSLMODE"] = value
        env.update({key: str(value) for key, value in mapping.items() if value})
        return env


def is_postgresql(settings_dict: dict[str, Any]) -> bool:
    return "postgresql" in settings_dict.get("ENGINE", "")


def target_from(settings_dict: dict[str, Any]) -> Target:
    """The database of a Django connection's settings (connection.settings_dict: under tests, the test database)."""
    options = settings_dict.get("OPTIONS") or {}
    kept = tuple((key, str(value)) for key, value in options.items() if key in ("sslmode", "sslrootcert", "sslcert"))
    return Target(
        name=settings_dict["NAME"],
        host=str(settings_dict.get("HOST") or ""),
        port=str(settings_dict.get("PORT") or ""),
        user=str(settings_dict.get("USER") or ""),
        password=str(settings_dict.get("PASSWORD") or ""),
        options=kept,
    )


def connect(target: Target, dbname: str | None = None, *, autocommit: bool = False) -> psycopg.Connection:
    try:
        return psycopg.connect(**target.conninfo(dbname), autocommit=autocommit, connect_timeout=10)
    except psycopg.Error as exc:
        raise OpsError(f"データベースに接続できません（{type(exc).__name__}）。") from exc


def server_major(conn: psycopg.Connection) -> int:
    return conn.info.server_version // 10000


def tool(name: str, major: int) -> str:
    """pg_dump or pg_restore for a server of `major`: BACKUP_PG_BIN_DIR when set, else Debian's
    /usr/lib/postgresql/<major>/bin, else the PATH. Refused when older than the server (pg_dump cannot dump a newer
    server)."""
    candidates = []
    if settings.BACKUP_PG_BIN_DIR:
        candidates.append(Path(settings.BACKUP_PG_BIN_DIR) / name)
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin") / name)
    found = next((str(path) for path in candidates if path.is_file() and os.access(path, os.X_OK)), None)
    found = found or shutil.which(name)
    if not found:
        raise OpsError(f"{name} が見つかりません（postgresql-client {major} を入れるか BACKUP_PG_BIN_DIR を設定）。")
    version = tool_version(found)
    if version < major:
        raise OpsError(
            f"{name} の版（{version}）がサーバ（{major}）より古いため使えません。"
            f" postgresql-client-{major} を入れるか BACKUP_PG_BIN_DIR を設定してください。"
        )
    return found


def tool_version(path: str) -> int:
    try:
        out = subprocess.run(  # noqa: S603 - the pg tool we found
            [path, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise OpsError(f"{path} --version を実行できません。") from exc
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    if not match:
        raise OpsError(f"{path} の版を読めません。")
    return int(match.group(1))


def stabilise(conn: psycopg.Connection) -> None:
    for statement in STABLE_SESSION:
        conn.execute(statement)


def tables(conn: psycopg.Connection) -> list[str]:
    """Every ordinary table (partitions included), as "schema.table"."""
    return [f"{schema}.{name}" for schema, name in conn.execute(TABLES_SQL).fetchall()]


def table_checksum(conn: psycopg.Connection, qualified: str) -> dict[str, Any]:
    schema, name = qualified.split(".", 1)
    query = sql.SQL(CHECKSUM_SQL).format(table=sql.Identifier(schema, name))
    rows, checksum = conn.execute(query).fetchone()
    return {"rows": int(rows), "checksum": str(checksum)}
