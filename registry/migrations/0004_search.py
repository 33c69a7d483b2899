"""住民検索 on PostgreSQL: the name-gram table and its triggers, the kana sort-key index, trigram indexes for 住所.

Nothing here changes the models: on other databases (SQLite) the search runs as plain LIKE filters and this
migration does nothing but record itself. Why this design: docs/search.md. Query side: registry/search.py.

- `registry_name_fold(text)`: names as searched (variation selectors dropped, a few 異体字 folded). A frozen copy
  of registry.search.NAME_VARIANTS / VARIATION_SELECTORS; a test checks that they agree.
- `registry_name_grams(surname, given_name)`: every distinct 1-gram and 2-gram of the folded 氏+名
  (registry.search.name_ngrams is the Python twin).
- `registry_resident_name_gram`: one row per (gram, resident) with the resident's status and sort key; its primary
  key (gram, status, kana_key, birth_date, resident_id) gives the 現存 (or 除票) residents having a gram already in
  result order. Filled by
  statement-level triggers on registry_resident (INSERT, UPDATE, DELETE, TRUNCATE), so the services and the COPY of
  the bulk loader keep it without knowing it exists. No foreign key: a resident is never deleted (the DELETE
  trigger cleans up anyway), and an FK check per gram row would slow the bulk load by minutes; every hit is
  rechecked against registry_resident, so a stray row could never show a wrong person.
- `registry_resident_kana_key_idx`: ((surname_kana || given_name_kana) COLLATE "C", birth_date, id) — the sort key
  of every result list and the index range of a カナ prefix.
- `registry_resident_address_trgm` / `registry_resident_katagaki_trgm`: pg_trgm GIN for 住所 partial match.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

VARIANTS_FROM = "髙﨑𠮷𡈽邉邊齋齊濵濱澤櫻嶋國廣眞冨德"
VARIANTS_TO = "高崎吉土辺辺斎斉浜浜沢桜島国広真富徳"
# translate() deletes the characters of `from` that have no counterpart in `to`: the variation selectors.
SELECTORS = "".join(chr(c) for c in range(0xFE00, 0xFE10)) + "".join(chr(c) for c in range(0xE0100, 0xE01F0))

KEY_CHANGED = (
    "(o.surname, o.given_name, o.surname_kana, o.given_name_kana, o.birth_date, o.status) IS DISTINCT FROM "
    "(n.surname, n.given_name, n.surname_kana, n.given_name_kana, n.birth_date, n.status)"
)

FORWARD = [
    f"""
    CREATE OR REPLACE FUNCTION registry_name_fold(t text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT translate(t, '{VARIANTS_FROM}{SELECTORS}', '{VARIANTS_TO}') $$
    """,
    # plpgsql rather than one SQL query with array_agg: ~9 µs a call instead of ~50 µs (measured at 1M rows),
    # which is what the bulk load pays per resident. COST tells the planner it is not free to call per row.
    """
    CREATE OR REPLACE FUNCTION registry_name_grams(surname text, given_name text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 500
    AS $$
    DECLARE
      f text := registry_name_fold(coalesce(surname, '')) || registry_name_fold(coalesce(given_name, ''));
      n int := char_length(f);
      grams text[] := '{}';
      g text;
    BEGIN
      FOR i IN 1..n LOOP
        g := substr(f, i, 1);
        IF NOT g = ANY(grams) THEN grams := grams || g; END IF;
        IF i < n THEN
          g := substr(f, i, 2);
          IF NOT g = ANY(grams) THEN grams := grams || g; END IF;
        END IF;
      END LOOP;
      RETURN grams;
    END $$
    """,
    """
    CREATE TABLE registry_resident_name_gram (
        gram text COLLATE "C" NOT NULL,
        status varchar(10) COLLATE "C" NOT NULL,
        kana_key text COLLATE "C" NOT NULL,
        birth_date date NOT NULL,
        resident_id bigint NOT NULL
    )
    """,
    # Backfill before the indexes exist (one sort per index instead of millions of inserts into a btree).
    """
    INSERT INTO registry_resident_name_gram (gram, status, kana_key, birth_date, resident_id)
    SELECT g, r.status, r.surname_kana || r.given_name_kana, r.birth_date, r.id
    FROM registry_resident r CROSS JOIN LATERAL unnest(registry_name_grams(r.surname, r.given_name)) AS g
    """,
    """
    ALTER TABLE registry_resident_name_gram
    ADD CONSTRAINT registry_resident_name_gram_pkey PRIMARY KEY (gram, status, kana_key, birth_date, resident_id)
    """,
    # The triggers' DELETE, and the plan that starts from another condition (生年月日) and probes the gram.
    "CREATE INDEX registry_resident_name_gram_resident ON registry_resident_name_gram (resident_id, gram)",
    """
    CREATE OR REPLACE FUNCTION registry_resident_name_gram_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO registry_resident_name_gram (gram, status, kana_key, birth_date, resident_id)
      SELECT g, n.status, n.surname_kana || n.given_name_kana, n.birth_date, n.id
      FROM new_rows n CROSS JOIN LATERAL unnest(registry_name_grams(n.surname, n.given_name)) AS g;
      RETURN NULL;
    END $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION registry_resident_name_gram_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM registry_resident_name_gram AS g
      USING old_rows o JOIN new_rows n ON n.id = o.id
      WHERE g.resident_id = o.id AND {KEY_CHANGED};
      INSERT INTO registry_resident_name_gram (gram, status, kana_key, birth_date, resident_id)
      SELECT g, n.status, n.surname_kana || n.given_name_kana, n.birth_date, n.id
      FROM new_rows n JOIN old_rows o ON o.id = n.id
      CROSS JOIN LATERAL unnest(registry_name_grams(n.surname, n.given_name)) AS g
      WHERE {KEY_CHANGED};
      RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION registry_resident_name_gram_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM registry_resident_name_gram AS g USING old_rows o WHERE g.resident_id = o.id;
      RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION registry_resident_name_gram_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      TRUNCATE registry_resident_name_gram;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER registry_resident_name_gram_insert AFTER INSERT ON registry_resident
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_resident_name_gram_insert()
    """,
    """
    CREATE TRIGGER registry_resident_name_gram_update AFTER UPDATE ON registry_resident
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_resident_name_gram_update()
    """,
    """
    CREATE TRIGGER registry_resident_name_gram_delete AFTER DELETE ON registry_resident
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_resident_name_gram_delete()
    """,
    """
    CREATE TRIGGER registry_resident_name_gram_truncate AFTER TRUNCATE ON registry_resident
    FOR EACH STATEMENT EXECUTE FUNCTION registry_resident_name_gram_truncate()
    """,
    """
    CREATE INDEX registry_resident_kana_key_idx
    ON registry_resident (((surname_kana || given_name_kana) COLLATE "C"), birth_date, id)
    """,
    "CREATE INDEX registry_resident_address_trgm ON registry_resident USING gin (address gin_trgm_ops)",
    "CREATE INDEX registry_resident_katagaki_trgm ON registry_resident USING gin (katagaki gin_trgm_ops)",
    "ANALYZE registry_resident_name_gram",
]

BACKWARD = [
    "DROP INDEX IF EXISTS registry_resident_katagaki_trgm",
    "DROP INDEX IF EXISTS registry_resident_address_trgm",
    "DROP INDEX IF EXISTS registry_resident_kana_key_idx",
    "DROP TRIGGER IF EXISTS registry_resident_name_gram_truncate ON registry_resident",
    "DROP TRIGGER IF EXISTS registry_resident_name_gram_delete ON registry_resident",
    "DROP TRIGGER IF EXISTS registry_resident_name_gram_update ON registry_resident",
    "DROP TRIGGER IF EXISTS registry_resident_name_gram_insert ON registry_resident",
    "DROP FUNCTION IF EXISTS registry_resident_name_gram_truncate()",
    "DROP FUNCTION IF EXISTS registry_resident_name_gram_delete()",
    "DROP FUNCTION IF EXISTS registry_resident_name_gram_update()",
    "DROP FUNCTION IF EXISTS registry_resident_name_gram_insert()",
    "DROP TABLE IF EXISTS registry_resident_name_gram",
    "DROP FUNCTION IF EXISTS registry_name_grams(text, text)",
    "DROP FUNCTION IF EXISTS registry_name_fold(text)",
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
        ("registry", "0003_edit_locks"),
    ]

    operations = [
        TrigramExtension(),  # does nothing on other databases
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]
