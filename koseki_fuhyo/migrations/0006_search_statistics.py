"""戸籍検索 on PostgreSQL: a finer sample of 本籍 (1,000 values instead of 100), so that one 番地 is not estimated as
1 % of the table (registry 0005 does the same for 住所). Nothing changes in the models; other databases skip this.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE koseki_fuhyo_koseki ALTER COLUMN honseki_address SET STATISTICS 1000",
    "ANALYZE koseki_fuhyo_koseki",
]
BACKWARD = ["ALTER TABLE koseki_fuhyo_koseki ALTER COLUMN honseki_address SET STATISTICS -1"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("koseki_fuhyo", "0005_search_indexes"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]
