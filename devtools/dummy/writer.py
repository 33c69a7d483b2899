"""Writing plans as rows: primary keys, 住民票コード, and the bulk insert (COPY on PostgreSQL, bulk_create elsewhere).

Primary keys are assigned here, counting on from the highest id of each table when the run starts, so that a child
row (ResidentChange → Resident → Household, FuhyoAddress → FuhyoEntry → Koseki) names its parent without a round
trip. The identity sequences are moved past the new ids at the end of every batch, in the batch's transaction, so
that the services can insert afterwards (and after an interrupted run). The seeder must therefore be the only writer
of these tables while it runs.

住民票コード are drawn with `common.juminhyo_codes.random_juminhyo_code` from a seeded `random.Random`. Uniqueness is
checked against the database (every code in 住民票 and 附票, whatever the status: stricter than the rule, which only
asks it of current rows) and against the batch. A fixed-size filter (`UsedCodes`, 16 MiB) says which codes cannot be
in the database, so only a few per batch are looked up, and memory stays flat however many codes exist. A code that
collides is redrawn from a generator seeded by (seed, person's ordinal, attempt): the result depends on the seed and
on which earlier codes exist, not on where the batch boundaries fall.

On PostgreSQL, outside a transaction, the inserts run on a second connection in a second thread, one batch behind the
generator (pipelined), so that the server's work and Python's overlap; the codes of the batches still in flight are
kept in memory for the uniqueness check. Inside a transaction (tests) the same code runs on the caller's connection.
"""

import json
import operator
import queue
import random
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.management.color import no_style
from django.db import connections, models, transaction

from common.juminhyo_codes import random_juminhyo_code
from koseki_fuhyo.choices import EntryStatus, KosekiStatus
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry, Koseki
from registry.choices import CHANGE_CLASS_OF, ChangeReason, ResidentStatus
from registry.models import Household, Resident, ResidentChange

from .families import HouseholdPlan, KosekiMember, KosekiPlan, Person, ResidentPlan

FUHYO_CODE_SINCE = date(2024, 5, 27)  # the 附票 carries the 住民票コード from this day (2019 amendment)
MOVE_IN_NOTICE_DAYS = 10  # a 転入通知 from the new 住所地 arrives about this many days after the 転出

# Parents before children: the order rows are inserted in (PostgreSQL defers FK checks to commit anyway).
MODELS: tuple[type[models.Model], ...] = (Household, Resident, ResidentChange, Koseki, FuhyoEntry, FuhyoAddress)


@dataclass
class Batch:
    """Plans generated since the last write, in the order they were drawn: whole 世帯 with their 戸籍, and 戸籍 of
    people who live elsewhere. Rows get their ids in this order, so ids do not depend on the batch size."""

    plans: list[HouseholdPlan | KosekiPlan] = field(default_factory=list)
    residents: int = 0  # current residents in the batch's 世帯

    def __bool__(self) -> bool:
        return bool(self.plans)


class _Table:
    """Column order of one model, and the value of each column a row does not name (the field's default)."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in fields]
        self.columns = [f.column for f in fields]
        self.json = [f.attname for f in fields if isinstance(f, models.JSONField)]
        # Defaults are evaluated once: they fill fields that other people add to the models (a new flag with a
        # default), which the database itself does not default (Django keeps defaults in Python).
        self.template: dict = {}
        self.required: set[str] = set()
        for f in fields:
            if f.has_default():
                self.template[f.attname] = f.get_default()
            elif f.null:
                self.template[f.attname] = None
            elif isinstance(f, models.CharField | models.TextField):
                self.template[f.attname] = ""
            else:
                self.required.add(f.attname)
        self.values = operator.itemgetter(*self.attnames)

    def check(self, row: dict) -> None:
        missing = self.required - row.keys()
        if missing:
            raise LookupError(f"{self.model.__name__}: no value and no default for {', '.join(sorted(missing))}")

    def tuple_of(self, row: dict) -> tuple:
        merged = self.template.copy()
        merged.update(row)
        for name in self.json:
            merged[name] = json.dumps(merged[name], ensure_ascii=False)
        return self.values(merged)


class UsedCodes:
    """Which 住民票コード may already be taken: a one-hash Bloom filter of 2**27 bits (16 MiB, whatever the size of
    the ward). A code it has not seen is certainly free; a code it has seen (or a false positive: about 1 % at a
    million residents) is looked up in the database. It starts from every code the database holds and learns each
    batch's codes, so the database is asked about a few dozen codes per batch instead of all of them."""

    BITS = 1 << 27

    def __init__(self) -> None:
        self._bits = bytearray(self.BITS >> 3)

    def _slot(self, code: str) -> tuple[int, int]:
        n = int(code) % self.BITS  # the digits are random: their value is as good a hash as any
        return n >> 3, 1 << (n & 7)

    def add(self, code: str) -> None:
        index, mask = self._slot(code)
        self._bits[index] |= mask

    def __contains__(self, code: str) -> bool:
        index, mask = self._slot(code)
        return bool(self._bits[index] & mask)


class Writer:
    """Turns batches of plans into rows and inserts them, one transaction per batch."""

    def __init__(
        self,
        *,
        seed: int,
        as_of: date,
        source: str,
        request_id: str,
        now: datetime,
        using: str = "default",
        use_copy: bool | None = None,
    ) -> None:
        self.seed = seed
        self.as_of = as_of
        self.source = source
        self.request_id = request_id
        self.now = now
        self.using = using
        connection = connections[using]
        vendor = connection.vendor
        self.use_copy = (vendor == "postgresql") if use_copy is None else use_copy
        if self.use_copy and vendor != "postgresql":
            raise ValueError("COPY is only available on PostgreSQL")
        # Outside a transaction (the command, the benchmark) a second connection inserts batch k while this thread
        # draws batch k+1: the server's work (COPY, indexes, foreign-key checks at commit) overlaps with Python's.
        # Inside one (a test) everything stays on the caller's connection, so that it rolls back with the test.
        self.pipelined = self.use_copy and not connection.in_atomic_block
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.tables = {model: _Table(model) for model in MODELS}
        self.next_id = {
            model: (model.objects.using(using).aggregate(m=models.Max("pk"))["m"] or 0) + 1 for model in MODELS
        }
        self.code_rng = random.Random(f"{seed}:juminhyo-codes")
        self.ordinal = 0  # persons given a code so far in this run
        self.used = UsedCodes()
        for model in (Resident, FuhyoEntry):
            codes = model.objects.using(using).exclude(juminhyo_code="").values_list("juminhyo_code", flat=True)
            for code in codes.iterator(chunk_size=20_000):
                self.used.add(code)
        self.recent: deque[set[str]] = deque(maxlen=2)  # codes of the batches that may not be committed yet
        self.counts = dict.fromkeys(MODELS, 0)
        self.batches = 0
        self._rows: dict[type[models.Model], list[dict]] = {}

    @property
    def connection(self):
        return connections[self.using]  # per thread: the inserting thread has its own

    # --- ids and codes -------------------------------------------------------------------------------------------

    def _id(self, model: type[models.Model]) -> int:
        pk = self.next_id[model]
        self.next_id[model] = pk + 1
        return pk

    @staticmethod
    def entry_shows_code(member: KosekiMember) -> bool:
        """A 附票 row removed before the 附票 carried 住民票コード keeps none."""
        return member.person.has_code and (member.removed_on is None or member.removed_on >= FUHYO_CODE_SINCE)

    def _persons_needing_codes(self, batch: Batch) -> list[Person]:
        seen: set[int] = set()
        persons: list[Person] = []

        def visit(person: Person, needed: bool) -> None:
            if needed and id(person) not in seen:
                seen.add(id(person))
                persons.append(person)

        for plan in batch.plans:
            if isinstance(plan, HouseholdPlan):
                for resident in plan.members:
                    visit(resident.person, True)
                koseki_list = plan.koseki
            else:
                koseki_list = [plan]
            for koseki in koseki_list:
                for member in koseki.members:
                    visit(member.person, self.entry_shows_code(member))
        return persons

    def _existing_codes(self, codes: Iterable[str]) -> set[str]:
        """Which of `codes` a 住民票 or a 附票 row already carries (both columns are indexed)."""
        codes = list(codes)
        found: set[str] = set()
        if self.connection.vendor == "postgresql":  # one array parameter instead of thousands of placeholders
            with self.connection.cursor() as cursor:
                for model in (Resident, FuhyoEntry):
                    table = self.connection.ops.quote_name(model._meta.db_table)
                    sql = f"SELECT juminhyo_code FROM {table} WHERE juminhyo_code = ANY(%s)"  # noqa: S608 - model's table
                    cursor.execute(sql, [codes])
                    found.update(code for (code,) in cursor.fetchall())
            return found
        chunk = (self.connection.features.max_query_params or 20_000) - 10
        for start in range(0, len(codes), chunk):
            part = codes[start : start + chunk]
            for model in (Resident, FuhyoEntry):
                rows = model.objects.using(self.using).filter(juminhyo_code__in=part)
                found.update(rows.values_list("juminhyo_code", flat=True))
        return found

    def assign_codes(self, batch: Batch) -> None:
        persons = self._persons_needing_codes(batch)
        for person in persons:
            person.code = random_juminhyo_code(self.code_rng)
        used = self.used
        existing = self._existing_codes({p.code for p in persons if p.code in used})
        for codes in self.recent:  # written by now or about to be: taken either way
            existing |= {p.code for p in persons if p.code in codes}
        taken: set[str] = set()
        for person in persons:
            self.ordinal += 1
            attempt = 0
            while person.code in taken or person.code in existing or any(person.code in c for c in self.recent):
                attempt += 1
                person.code = random_juminhyo_code(random.Random(f"{self.seed}:{self.ordinal}:{attempt}"))
                if person.code in used:
                    existing |= self._existing_codes([person.code])
            taken.add(person.code)
        for code in taken:
            used.add(code)
        self.recent.append(taken)

    # --- rows ----------------------------------------------------------------------------------------------------

    def _add(self, model: type[models.Model], row: dict) -> int:
        pk = self._id(model)
        row["id"] = pk
        self._rows[model].append(row)
        return pk

    def _household(self, plan: HouseholdPlan) -> None:
        now = self.now
        address = plan.address
        household_id = self.next_id[Household]
        number = f"{household_id:010d}"
        self._add(
            Household,
            {
                "number": number,
                "address": address.address,
                "katagaki": address.katagaki,
                "formed_on": plan.formed_on,
                "dissolved_on": plan.dissolved_on,
                "created_at": now,
                "updated_at": now,
            },
        )
        for resident in plan.members:
            self._resident(resident, household_id, number, address.address, address.katagaki)
        for koseki in plan.koseki:
            self._koseki(koseki)

    def _resident(self, r: ResidentPlan, household_id: int, number: str, address: str, katagaki: str) -> None:
        person, koseki, now = r.person, r.koseki, self.now
        removed = r.removed_on is not None
        confirmed = (
            r.removal_reason == ChangeReason.MOVE_OUT
            and r.removed_on + timedelta(days=MOVE_IN_NOTICE_DAYS) <= self.as_of
        )
        resident_id = self._add(
            Resident,
            {
                "juminhyo_code": person.code,
                "surname": person.surname,
                "given_name": person.given_name,
                "surname_kana": person.surname_kana,
                "given_name_kana": person.given_name_kana,
                "birth_date": person.birth_date,
                "sex": person.sex,
                "household_id": household_id,
                "relationship": r.relationship,
                "address": address,
                "katagaki": katagaki,
                "address_established_on": r.address_established_on,
                "became_resident_on": r.became_resident_on,
                "honseki_municipality_id": koseki.honseki_municipality,
                "honseki_address": koseki.honseki_address,
                "hittousha_name": koseki.hittousha.name,
                "previous_municipality_id": r.previous_municipality,
                "previous_address": r.previous_address,
                "status": ResidentStatus.REMOVED if removed else ResidentStatus.CURRENT,
                "removed_on": r.removed_on,
                "removal_reason": r.removal_reason,
                "moved_to_municipality_id": r.moved_to_municipality,
                "moved_to_address": r.moved_to_address,
                "move_out_confirmed_on": r.removed_on if confirmed else None,
                "move_out_confirmed_address": r.moved_to_address if confirmed else "",
                "move_in_notice_received_on": r.removed_on + timedelta(days=MOVE_IN_NOTICE_DAYS) if confirmed else None,
                "created_at": now,
                "updated_at": now,
            },
        )
        for event in r.events:
            entering = CHANGE_CLASS_OF[event.reason] != "removal"
            moving_within = event.reason == ChangeReason.MOVE_WITHIN
            self._add(
                ResidentChange,
                {
                    "resident_id": resident_id,
                    "change_group": event.group,
                    "reason": event.reason,
                    "change_class": CHANGE_CLASS_OF[event.reason],
                    "change_date": event.change_date,
                    "notified_on": event.notified_on,
                    "previous_address": event.previous_address,
                    "new_address": event.new_address,
                    "previous_head_name": event.previous_head_name,
                    "new_head_name": event.new_head_name,
                    "previous_household_number": number if (moving_within or not entering) else "",
                    "new_household_number": number if entering else "",
                    "details": {},
                    "source": self.source,
                    "request_id": self.request_id,
                    "recorded_at": now,
                },
            )

    def _koseki(self, k: KosekiPlan) -> None:
        now = self.now
        koseki_id = self._add(
            Koseki,
            {
                "honseki_address": k.honseki_address,
                "hittousha_surname": k.hittousha.surname,
                "hittousha_given_name": k.hittousha.given_name,
                "status": KosekiStatus.CLOSED if k.closed_on else KosekiStatus.CURRENT,
                "formed_on": k.formed_on,
                "formed_reason": k.formed_reason,
                "closed_on": k.closed_on,
                "closed_reason": k.closed_reason,
                "created_at": now,
                "updated_at": now,
            },
        )
        for position, member in enumerate(k.members, start=1):
            person = member.person
            # a row closed by marriage shows the person as the 戸籍 knew them: under the 氏 before the marriage
            surname, surname_kana = (
                person.birth_surname if member.removed_reason == "婚姻" else (person.surname, person.surname_kana)
            )
            entry_id = self._add(
                FuhyoEntry,
                {
                    "koseki_id": koseki_id,
                    "position": position,
                    "surname": surname,
                    "given_name": person.given_name,
                    "surname_kana": surname_kana,
                    "given_name_kana": person.given_name_kana,
                    "birth_date": person.birth_date,
                    "sex": person.sex,
                    "juminhyo_code": person.code if self.entry_shows_code(member) else "",
                    "status": EntryStatus.CURRENT if member.removed_on is None else EntryStatus.REMOVED,
                    "entered_on": member.entered_on,
                    "entered_reason": member.entered_reason,
                    "removed_on": member.removed_on,
                    "removed_reason": member.removed_reason,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            last = len(member.lines) - 1
            for i, line in enumerate(member.lines):
                self._add(
                    FuhyoAddress,
                    {
                        "entry_id": entry_id,
                        "municipality_id": line.municipality,
                        "address": line.address,
                        "is_abroad": line.municipality is None,
                        "country": line.country,
                        "established_on": line.established_on,
                        "recorded_on": line.recorded_on,
                        "reason": line.reason,
                        "is_current": i == last,
                        "created_at": now,
                    },
                )

    # --- insert --------------------------------------------------------------------------------------------------

    def write(self, batch: Batch) -> None:
        """Turn one batch into rows and insert them (in the background when pipelined)."""
        self.assign_codes(batch)
        self._rows = {model: [] for model in MODELS}
        for plan in batch.plans:
            if isinstance(plan, HouseholdPlan):
                self._household(plan)
            else:
                self._koseki(plan)
        rows, self._rows = self._rows, {}
        if not self.pipelined:
            self._store(rows)
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name="seed_dummy-writer", daemon=True)
            self._thread.start()
        self._queue.put(rows)  # waits while the previous batch is still queued: two batches in memory at most
        self._raise_if_failed()

    def finish(self) -> None:
        """Wait for the batches in flight, then refresh the statistics for whatever runs next."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
            self._raise_if_failed()
        self.analyze()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _drain(self) -> None:
        try:
            while (rows := self._queue.get()) is not None:
                if self._error is None:  # after a failure keep taking batches so that the producer never blocks
                    try:
                        self._store(rows)
                    except BaseException as exc:  # noqa: BLE001 - handed to the producer, which raises it
                        self._error = exc
        finally:
            self.connection.close()

    def _store(self, rows: dict[type[models.Model], list[dict]]) -> None:
        """Insert one batch in one transaction, then move the id sequences past it."""
        with transaction.atomic(using=self.using):
            self._check_household_numbers(rows[Household])
            for model in MODELS:
                if rows[model]:
                    self._insert(self.tables[model], rows[model])
            self._reset_sequences()
        for model in MODELS:
            self.counts[model] += len(rows[model])
        self.batches += 1
        if self.batches == 1:
            self.analyze()

    def analyze(self) -> None:
        """Refresh the planner's statistics (PostgreSQL). Done after the first batch: a table loaded in bulk has none
        until autovacuum comes by, and without them the planner reads `juminhyo_code = ANY(...)` as a sequential
        scan (0.4 s a query at a million rows instead of a millisecond). Statistics once taken scale with the table,
        so once is enough; the command calls it again at the end for the queries that follow the load."""
        if self.connection.vendor != "postgresql":
            return
        with self.connection.cursor() as cursor:
            for model in MODELS:
                cursor.execute(f"ANALYZE {self.connection.ops.quote_name(model._meta.db_table)}")
            # 住民検索's n-gram table, filled by triggers as the residents are copied in (registry/search.py).
            cursor.execute("ANALYZE registry_resident_name_gram")

    def _check_household_numbers(self, rows: list[dict]) -> None:
        """世帯番号 are the zero-padded ids, contiguous in a batch: one range query finds a clash with numbers that
        the services gave (only possible with --append)."""
        if (
            rows
            and Household.objects.using(self.using)
            .filter(number__gte=rows[0]["number"], number__lte=rows[-1]["number"])
            .exists()
        ):
            raise RuntimeError(
                f"世帯番号 {rows[0]['number']}〜{rows[-1]['number']} の範囲に既存の世帯があります。"
                "既存データの番号体系と重なるため、--append での追加はできません。"
            )

    def _insert(self, table: _Table, rows: list[dict]) -> None:
        table.check(rows[0])  # every row of a table is built by the same code with the same keys
        if self.use_copy:
            ops = self.connection.ops
            sql = "COPY {} ({}) FROM STDIN".format(
                ops.quote_name(table.model._meta.db_table), ", ".join(ops.quote_name(c) for c in table.columns)
            )
            with self.connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(table.tuple_of(row))
        else:
            model = table.model
            model.objects.using(self.using).bulk_create([model(**row) for row in rows])

    def _reset_sequences(self) -> None:
        statements = self.connection.ops.sequence_reset_sql(no_style(), MODELS)
        if statements:
            with self.connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
