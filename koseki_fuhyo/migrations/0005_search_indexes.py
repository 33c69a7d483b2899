"""戸籍検索 on PostgreSQL: indexes only (nothing changes in the models; other databases skip this).

- `koseki_honseki_trgm`: pg_trgm GIN on 本籍 for partial match (three characters or more).
- `koseki_hittousha_grams`: GIN over registry_name_grams(筆頭者の氏, 筆頭者の名) (registry migration 0004), so that
  one or two kanji of the 筆頭者 find the 戸籍 without a scan.
- `fuhyo_entry_first_kana_idx`: the カナ of each 戸籍's first 附票 row (the 筆頭者), code-point order, for a prefix.
"""

from django.db import migrations

FORWARD = [
    "CREATE INDEX koseki_honseki_trgm ON koseki_fuhyo_koseki USING gin (honseki_address gin_trgm_ops)",
    """
    CREATE INDEX koseki_hittousha_grams ON koseki_fuhyo_koseki
    USING gin (registry_name_grams(hittousha_surname, hittousha_given_name))
    """,
    """
    CREATE INDEX fuhyo_entry_first_kana_idx ON koseki_fuhyo_fuhyoentry
    (((surname_kana || given_name_kana) COLLATE "C")) WHERE position = 1
    """,
    # Statistics of the new expressions, so that the planner knows how common a gram or a カナ prefix is.
    "ANALYZE koseki_fuhyo_koseki",
    "ANALYZE koseki_fuhyo_fuhyoentry",
]

BACKWARD = [
    "DROP INDEX IF EXISTS fuhyo_entry_first_kana_idx",
    "DROP INDEX IF EXISTS koseki_hittousha_grams",
    "DROP INDEX IF EXISTS koseki_honseki_trgm",
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
        ("koseki_fuhyo", "0004_access_restriction"),
        ("registry", "0004_search"),  # registry_name_grams and the pg_trgm extension
    ]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]
