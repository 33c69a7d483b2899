"""住民検索 on PostgreSQL: finer statistics for 住所 and 方書, so that the planner can tell a whole 町 (「北新宿」,
thousands of residents) from one 番 (「河田町3番」, a few). With the default 100 sample values a pattern found once
counts as 1 % of the table; with 1,000 the floor is 0.1 % and a pattern not found is estimated as rare. Nothing
changes in the models; other databases skip this.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE registry_resident ALTER COLUMN address SET STATISTICS 1000, "
    "ALTER COLUMN katagaki SET STATISTICS 1000",
    "ANALYZE registry_resident",
]
BACKWARD = [
    "ALTER TABLE registry_resident ALTER COLUMN address SET STATISTICS -1, ALTER COLUMN katagaki SET STATISTICS -1",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_search"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]
