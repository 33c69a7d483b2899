"""Dummy data for development, demos and load tests: a fake ward of N residents with their 戸籍 and 附票.

Everything is generated: names from tables of common 氏 and 名, addresses from the ward's real 町丁目 with random
番・号 and building names, 住民票コード drawn at random with valid check digits. No row describes a real person.

This is the one bulk loader of the project, and the one place that writes register rows without the services
(registry.services, koseki_fuhyo.services): a service call per 異動 writes one person at a time with its checks,
events and history, which would take hours for a million residents. Instead the generator builds rows that satisfy
the same rules by construction (registry.consistency.iter_inconsistencies() finds nothing after a run; the tests
check it and run every field validator) and inserts them in batches with bulk_create, or with COPY on PostgreSQL.
No ChangeEvent is written: seeding is not a 異動 and must not produce notices.

Modules: names (氏名 tables with readings), addresses (町丁目, 方書, addresses elsewhere), families (世帯 and 戸籍 as
plans), writer (rows, ids, 住民票コード, COPY/bulk_create), seed (the run).
"""

from .seed import DEFAULT_BATCH_SIZE, SeedRefused, SeedResult, row_counts, seed_ward

__all__ = ["DEFAULT_BATCH_SIZE", "SeedRefused", "SeedResult", "row_counts", "seed_ward"]
