"""registry_name_grams (0004) calls registry_name_fold without a schema. pg_restore builds indexes with an empty
search_path, so the GIN indexes over registry_name_grams (0006, koseki_fuhyo) failed to restore from a pg_dump:
`restore_check` found it. The same function, now calling registry_name_fold qualified with the schema the
migrations run in; behaviour unchanged (IMMUTABLE, same result), so the indexes stay valid."""

import importlib

from django.db import migrations

SEARCH = importlib.import_module("registry.migrations.0004_search")
GRAMS = SEARCH.FORWARD[1]
assert "FUNCTION registry_name_grams(" in GRAMS  # noqa: S101 - the statement this migration rewrites


def _qualified(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = connection.ops.quote_name(cursor.fetchone()[0])
    schema_editor.execute(GRAMS.replace("registry_name_fold(", f"{schema}.registry_name_fold("), params=None)


def _unqualified(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GRAMS, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0007_operations_records"),
    ]

    operations = [
        migrations.RunPython(_qualified, _unqualified, elidable=False),
    ]
