"""Indexes for the supervisors' audit review and the nightly analysis over tens of millions of entries
(docs/audit-review.md), and the permission to review an analysis flag.

Everywhere: (action, occurred_at desc) for the filter by screen/operation, (username, occurred_at desc) for the filter
by typed 職員ID (failed logins carry no user). On PostgreSQL also, built CONCURRENTLY so that a live table keeps
taking entries while they are built (the migration is therefore not atomic):
- audit_transmission_partner_idx: ((conditions->>'partner'), occurred_at desc) WHERE category = 'transmission' —
  the transmission log by partner, a small partial index;
- audit_denied_time_idx: (occurred_at desc) WHERE outcome = 'denied' — denied attempts per day (analysis, charts).
"""

from django.db import migrations, models

PG_INDEXES = {
    "audit_transmission_partner_idx": "ON audit_auditlogentry ((conditions ->> 'partner'), occurred_at DESC) "
    "WHERE category = 'transmission'",
    "audit_denied_time_idx": "ON audit_auditlogentry (occurred_at DESC) WHERE outcome = 'denied'",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, definition in PG_INDEXES.items():
            schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} {definition}", params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in PG_INDEXES:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}", params=None)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("audit", "0006_handover_export_permission"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="analysisflag",
            options={
                "ordering": ["-analysed_on", "kind", "username"],
                "permissions": [("review_analysisflag", "分析で見つかった事項の確認（コメントつき）")],
                "verbose_name": "分析で見つかった事項",
                "verbose_name_plural": "分析で見つかった事項",
            },
        ),
        migrations.AddIndex(
            model_name="auditlogentry",
            index=models.Index(fields=["action", "-occurred_at"], name="audit_action_time_idx"),
        ),
        migrations.AddIndex(
            model_name="auditlogentry",
            index=models.Index(fields=["username", "-occurred_at"], name="audit_username_time_idx"),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
