"""住民検索: the one query behind the search screen (a selector: it reads, never writes, and knows nothing of HTTP).

Conditions combine with AND. Results come one page at a time in 氏名カナ order (then 生年月日, then id), by keyset:
the caller passes the id of the last row it showed, and the next page starts after that row's sort key. A page is
fetched as `limit + 1` rows, so "is there a next page?" costs nothing more; nothing ever counts the matches.

How each condition stays fast at a million residents on PostgreSQL (docs/search.md explains the choice):

- 氏名 (kanji, anywhere in 氏・名・氏名): the table `registry_resident_name_gram` holds, for every resident, each
  distinct 1-gram and 2-gram of the folded 氏+名 together with the resident's status and sort key. It is kept by
  triggers (migration 0004), so services and the bulk loader need do nothing. Its primary key (gram, status,
  kana_key, birth_date, resident_id) hands out the residents having a gram already in result order: a page costs
  about `limit` index entries however common the gram (「田」 is in a fifth of all names). A query of one or two
  characters is exactly one gram; a longer one walks its rarest bigram, requires the others, and is rechecked on
  the folded name (having every bigram does not make a substring).
- 氏名カナ (prefix): an expression index on `(surname_kana || given_name_kana) COLLATE "C"`, which is also the sort
  key: a prefix is one index range, already in order.
- 生年月日, 住民票コード: plain btree indexes. 世帯番号: the unique index of Household. 住所: pg_trgm GIN indexes on
  住所 and 方書 (three characters or more; see `MIN_ADDRESS_ONLY_CHARS`). These find rows in no useful order: when
  they match few residents (`few_or_none`) those are sorted here; when many, the kana order (or the gram's postings)
  is walked with them as a filter. A name with such a condition meets it in a BitmapAnd (GIN over the name grams).

On other databases (SQLite for development) the same conditions run as plain LIKE filters.
"""

import contextlib
import dataclasses
import datetime as dt
import re
import time
import unicodedata
from dataclasses import asdict, dataclass, field

from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import Func, Q, QuerySet, TextField

from .choices import ResidentStatus
from .models import Resident
from .services.history import HOUSEHOLD_NUMBER_WIDTH

PAGE_SIZE = 50  # rows a clerk can scan on one screen; more is a sign the conditions are too broad
GRAM_TABLE = "registry_resident_name_gram"
NARROW = 5_000  # conditions matching at most this many residents are sorted directly (see few_or_none)
COMMON_GRAM = 0.02  # share of the gram table (田 0.03, 子 0.021, 山 0.014) above which walking beats the GIN bitmap
MIN_ADDRESS_ONLY_CHARS = 3  # pg_trgm needs three characters; shorter 住所 must come with another condition

# 異体字 folded to the common form, for search only (names are stored and shown exactly as written, domain.md §7).
# A clerk who types 高橋 finds 髙橋, and 吉田 finds 𠮷田. Kept short on purpose: only variants whose common form is
# the same name in everyday use. Migration 0004 holds a frozen copy for the database function registry_name_fold;
# changing this table needs a new migration that redefines the function and refills the gram table.
NAME_VARIANTS: dict[str, str] = {
    "髙": "高",
    "﨑": "崎",
    "𠮷": "吉",
    "𡈽": "土",
    "邉": "辺",
    "邊": "辺",
    "齋": "斎",
    "齊": "斉",
    "濵": "浜",
    "濱": "浜",
    "澤": "沢",
    "櫻": "桜",
    "嶋": "島",
    "國": "国",
    "廣": "広",
    "眞": "真",
    "冨": "富",
    "德": "徳",
}
# Variation selectors (standardized U+FE00–FE0F and ideographic U+E0100–E01EF) select a glyph, not a character:
# 葛󠄀 and 葛 are the same 葛 for search.
VARIATION_SELECTORS: str = "".join(chr(c) for c in range(0xFE00, 0xFE10)) + "".join(
    chr(c) for c in range(0xE0100, 0xE01F0)
)
_NAME_FOLD_TABLE = str.maketrans(NAME_VARIANTS | dict.fromkeys(VARIATION_SELECTORS, None))
_SPACES = re.compile(r"\s+")


def fold_name(text: str) -> str:
    """The form names are searched in: variation selectors dropped, 異体字 of NAME_VARIANTS folded, no spaces.
    The database function `registry_name_fold` does the same (a test checks that they agree)."""
    return _SPACES.sub("", text).translate(_NAME_FOLD_TABLE)


def name_ngrams(surname: str, given_name: str) -> list[str]:
    """Every distinct 1-gram and 2-gram of the folded 氏+名, sorted: what `registry_resident_name_gram` holds for
    one resident (the SQL function `registry_name_grams` computes the same list; a test checks that they agree).

    The 2-grams of 氏+名 include those of 氏 and of 名 alone, and the one across the boundary, so a query of one or
    two characters found anywhere in 氏, 名 or 氏名 together is always among them."""
    full = fold_name(surname) + fold_name(given_name)
    grams = set(full) | {full[i : i + 2] for i in range(len(full) - 1)}
    return sorted(grams)


def query_grams(folded: str) -> list[str]:
    """The grams a folded query needs: itself when it has one or two characters, else its bigrams in order."""
    if len(folded) <= 2:
        return [folded] if folded else []
    return list(dict.fromkeys(folded[i : i + 2] for i in range(len(folded) - 1)))


@dataclass(frozen=True)
class ResidentQuery:
    """What the clerk asked for, already cleaned (the form folds kana, parses dates, normalises numbers)."""

    name: str = ""  # folded by fold_name
    kana: str = ""  # full-width katakana; a space separates 氏 from 名
    birth_date: dt.date | None = None
    address: str = ""
    household_number: str = ""
    juminhyo_code: str = ""
    status: str = "current"  # current / removed / all

    def is_empty(self) -> bool:
        return not (
            self.name or self.kana or self.birth_date or self.address or self.household_number or self.juminhyo_code
        )

    def as_conditions(self) -> dict:
        """The conditions for the access log (what the clerk searched for, as typed after folding)."""
        values = {k: v for k, v in asdict(self).items() if v not in ("", None)}
        if self.birth_date:
            values["birth_date"] = self.birth_date.isoformat()
        return values

    def identity_only(self) -> "ResidentQuery":
        """The identity items alone (氏名, カナ, 生年月日, 住民票コード): what a masked row is matched on."""
        return ResidentQuery(name=self.name, kana=self.kana, birth_date=self.birth_date,
                             juminhyo_code=self.juminhyo_code, status="all")  # fmt: skip


@dataclass
class ResultPage:
    rows: list[Resident] = field(default_factory=list)
    next_after: int | None = None  # pass as `after` for the next page; None on the last page
    masked: set[int] = field(default_factory=set)  # ids of the rows shown as 「閲覧制限のある方」


class KanaKey(Func):
    """The sort key: 氏カナ+名カナ in code-point order (COLLATE "C" on PostgreSQL, whatever the database's collation,
    so that the expression index serves both the ordering and a LIKE prefix)."""

    output_field = TextField()

    def __init__(self, prefix: str = "") -> None:
        cols = ("surname_kana", "given_name_kana")
        super().__init__(*(f"{prefix}{c}" for c in cols))

    def as_sql(self, compiler, connection, **extra):
        (s, s_params), (g, g_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return f"({s} || {g})", [*s_params, *g_params]

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = self.as_sql(compiler, connection, **extra)
        return f'({sql} COLLATE "C")', params


class NameGrams(Func):
    """registry_name_grams(氏, 名) (PostgreSQL): the expression of the GIN index `registry_resident_name_grams_gin`,
    used where the name must be combined with another condition by a BitmapAnd."""

    function = "registry_name_grams"
    output_field = ArrayField(TextField())

    def __init__(self) -> None:
        super().__init__("surname", "given_name")


class NameFold(Func):
    """registry_name_fold(氏) || registry_name_fold(名): the folded name the recheck compares with."""

    output_field = TextField()

    def __init__(self) -> None:
        super().__init__("surname", "given_name")

    def as_sql(self, compiler, connection, **extra):
        (s, s_params), (g, g_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return f"(registry_name_fold({s}) || registry_name_fold({g}))", [*s_params, *g_params]


def ensure_sqlite_functions() -> None:
    """SQLite has no registry_name_fold: register the Python one on this connection (cheap, idempotent)."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_function("registry_name_fold", 1, fold_name, deterministic=True)


def prefix_range(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, as one index range in code-point order: [prefix, prefix with its last character
    incremented). Exact for the code-point ("C") order KanaKey sorts in — tighter than the range PostgreSQL derives
    from LIKE 'タ%', which runs to 'ヿ'."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": upper})


def filtered(query: ResidentQuery, hidden: frozenset[int] = frozenset()) -> QuerySet[Resident]:
    """Residents matching every condition (unordered), less the `hidden` ones: the whole search on SQLite, and on
    PostgreSQL the conditions other than the name, which `_ids_by_gram` drives through the gram table instead."""
    qs = Resident.objects.exclude(pk__in=hidden) if hidden else Resident.objects.all()
    if query.status in (ResidentStatus.CURRENT, ResidentStatus.REMOVED):
        qs = qs.filter(status=query.status)
    if query.name:
        qs = qs.alias(folded_name=NameFold()).filter(folded_name__contains=query.name)
    if query.kana:
        surname_kana, _, given_kana = query.kana.partition(" ")
        qs = qs.alias(kana_key=KanaKey()).filter(prefix_range("kana_key", surname_kana + given_kana))
        if given_kana:
            qs = qs.filter(surname_kana=surname_kana)
    if query.birth_date:
        qs = qs.filter(birth_date=query.birth_date)
    if query.address:
        qs = qs.filter(Q(address__contains=query.address) | Q(katagaki__contains=query.address))
    if query.household_number:
        qs = qs.filter(household__number__in=_household_numbers(query.household_number))
    if query.juminhyo_code:
        qs = qs.filter(juminhyo_code=query.juminhyo_code)
    return qs


def _household_numbers(number: str) -> list[str]:
    """The number as typed, and zero-padded to the 10 digits numbers are written with (clerks drop the zeros)."""
    numbers = [number]
    if number.isdigit() and len(number) < HOUSEHOLD_NUMBER_WIDTH:
        numbers.append(number.zfill(HOUSEHOLD_NUMBER_WIDTH))
    return numbers


def _sort_key_of(resident_id: int) -> tuple[str, dt.date, int] | None:
    row = (
        Resident.objects.filter(pk=resident_id)
        .annotate(kana_key=KanaKey())
        .values_list("kana_key", "birth_date", "pk")
        .first()
    )
    return tuple(row) if row else None


def search_residents(
    query: ResidentQuery, *, user=None, after: int | None = None, limit: int = PAGE_SIZE
) -> ResultPage:
    """One page of residents matching `query`, in (氏名カナ, 生年月日, id) order, starting after resident `after`.

    Persons restricted for `user` (audit.visibility; everyone restricted when no user is given) never take part in
    the search proper: they come back as masked rows when they match the identity items of the query alone (氏名,
    カナ, 生年月日, 住民票コード — enough to avoid a double registration), whatever its address, 世帯 or status
    conditions say, so that no condition can ask a yes/no question about a restricted person's address."""
    if query.is_empty():
        return ResultPage()
    ensure_sqlite_functions()
    hidden = frozenset(Resident.objects.masked_for(user).values_list("pk", flat=True))
    with transaction.atomic(), search_plans():
        page = _search(query, after, limit, hidden)
    if not hidden:
        return page
    masked = _masked_matches(query, hidden, _sort_key_of(after) if after else None)
    if not masked:
        return page
    merged = _merge(page, masked, limit)
    merged.masked = {r.pk for r in merged.rows if r.pk in hidden}
    return merged


def _masked_matches(query: ResidentQuery, hidden: frozenset[int], start: tuple | None) -> list[tuple]:
    """Sort keys (kana, 生年月日, id) of the hidden residents matching the identity items of the query."""
    identity = query.identity_only()
    if identity.is_empty():
        return []
    qs = Resident.objects.filter(pk__in=hidden)
    if identity.kana:
        surname_kana, _, given_kana = identity.kana.partition(" ")
        qs = qs.alias(kana_key=KanaKey()).filter(prefix_range("kana_key", surname_kana + given_kana))
        if given_kana:
            qs = qs.filter(surname_kana=surname_kana)
    if identity.birth_date:
        qs = qs.filter(birth_date=identity.birth_date)
    if identity.juminhyo_code:
        qs = qs.filter(juminhyo_code=identity.juminhyo_code)
    rows = qs.annotate(kana_key=KanaKey()).values_list("kana_key", "birth_date", "pk", "surname", "given_name")
    keys = sorted(
        (kana, birth, pk)
        for kana, birth, pk, surname, given in rows
        if not identity.name or identity.name in fold_name(surname) + fold_name(given)
    )
    return [k for k in keys if start is None or k > start]


def _merge(page: ResultPage, masked: list[tuple], limit: int) -> ResultPage:
    """The page's visible rows and the masked matches in one (kana, 生年月日, id) order. When the visible search has
    more rows, every row up to its last one is known, and the page ends there at the latest."""
    visible = (
        Resident.objects.filter(pk__in=[r.pk for r in page.rows])
        .annotate(kana_key=KanaKey())
        .values_list("kana_key", "birth_date", "pk")
    )
    keys = sorted([*(tuple(v) for v in visible), *masked])
    if page.next_after is not None:
        rows = _in_order([k[2] for k in keys[:limit]])
        return ResultPage(rows=rows, next_after=rows[-1].pk)
    return _page(_in_order([k[2] for k in keys[: limit + 1]]), limit)


@contextlib.contextmanager
def search_plans():
    """Planner settings for the statements of one search (PostgreSQL, SET LOCAL: they end with the transaction).

    - No parallel workers: a page of 50 rows is a fast-start plan, and starting workers cost more than they saved
      (measured: a 10 ms walk answered after 34 ms).
    - No sequential scan: every condition has an index, and a search must never read a million rows because an
      estimate was off (LIMIT without ORDER BY invites a scan that "will stop soon")."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            cursor.execute("SET LOCAL enable_seqscan = off")
    yield


def _search(query: ResidentQuery, after: int | None, limit: int, hidden: frozenset[int]) -> ResultPage:
    start = _sort_key_of(after) if after else None
    by_gram = bool(query.name) and connection.vendor == "postgresql"
    if query.birth_date or query.address or query.household_number or query.juminhyo_code:
        # Conditions that an index finds, but not in kana order: when they match few residents, sort just those
        # (few_or_none) rather than walk the kana order hoping to meet them soon. Left to itself the planner,
        # misjudging LIKE '%…%', read 276,000 rows of the kana index to find the 51 residents of one 番 (2 s).
        if by_gram:
            qs = filtered(dataclasses.replace(query, name=""), hidden)
            grams = query_grams(query.name)
            if max(_common_gram_frequencies().get(g, 0.0) for g in grams) < COMMON_GRAM:
                # Both bitmaps at once: GIN of the name's grams AND the other condition's index (migration 0006).
                # Not for a gram as common as 「田」 (a fifth of all names): decoding its bitmap costs more than
                # walking its postings, where the other condition's matches then come densely.
                qs = qs.alias(grams=NameGrams()).filter(grams__contains=grams)
        else:
            qs = filtered(query, hidden)
        few = few_or_none(qs)
        if few is not None:
            if by_gram:  # the name is checked here, on the few, in Python (the same fold as the gram table)
                few = [f for f in few if query.name in fold_name(f.surname) + fold_name(f.given_name)]
            keys = sorted((f.kana_key, f.birth_date, f.pk) for f in few)
            if start:
                keys = [k for k in keys if k > start]
            return _page(_in_order([k[2] for k in keys[: limit + 1]]), limit)
    if by_gram:
        return _page(_in_order(_ids_by_gram(query, start, limit + 1, hidden)), limit)
    qs = filtered(query, hidden).select_related("household").annotate(kana_key=KanaKey())
    if start:
        kana, birth, pk = start
        # `kana_key >= kana` is the index range; the OR spells out the rest of the row comparison portably.
        qs = qs.filter(kana_key__gte=kana).filter(
            Q(kana_key__gt=kana)
            | Q(kana_key=kana, birth_date__gt=birth)
            | Q(kana_key=kana, birth_date=birth, pk__gt=pk)
        )
    return _page(list(qs.order_by("kana_key", "birth_date", "pk")[: limit + 1]), limit)


def _in_order(ids: list[int]) -> list[Resident]:
    by_id = Resident.objects.select_related("household").in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def _page(rows: list[Resident], limit: int) -> ResultPage:
    page = ResultPage(rows=rows[:limit])
    if len(rows) > limit:
        page.next_after = rows[limit - 1].pk
    return page


@dataclass(frozen=True)
class _Few:
    pk: int
    kana_key: str
    birth_date: dt.date
    surname: str
    given_name: str


def few_or_none(qs: QuerySet[Resident]) -> list[_Few] | None:
    """The residents matching `qs` (their sort keys and names) when there are at most NARROW of them, else None.
    Read without ordering, so that the database uses the conditions' own indexes and stops at NARROW + 1 rows; the
    heap rows are read for the conditions' recheck anyway, so the few columns more cost nothing.

    Why a threshold: a page in kana order either sorts all the matches (cost ∝ matches) or walks the kana order
    until `limit` matches turn up (cost ∝ limit / density). The two meet near √(limit × residents) ≈ 7,000 at a
    million; below NARROW sorting wins, above it the matches are dense enough for the walk."""
    rows = list(
        qs.order_by()
        .annotate(kana_key=KanaKey())
        .values_list("pk", "kana_key", "birth_date", "surname", "given_name")[: NARROW + 1]
    )
    return [_Few(*row) for row in rows] if len(rows) <= NARROW else None


def _ids_by_gram(query: ResidentQuery, start: tuple | None, wanted: int, hidden: frozenset[int]) -> list[int]:
    """PostgreSQL: walk the postings of the rarest gram of the name, per status, in result order, keeping residents
    that have the name's other bigrams and pass every other condition (by then many: see _search). A name of one or
    two characters needs no recheck (its gram is exactly the condition); a longer one is rechecked here on the folded
    names (having all bigrams does not make a substring), reading on until `wanted` residents pass."""
    grams = query_grams(query.name)
    driver = _rarest(grams)
    where = ["g.gram = %s", "g.status = %s", "(g.kana_key, g.birth_date, g.resident_id) > (%s, %s, %s)"]
    extra_params: list = []
    if query.kana:
        # The postings are in kana order too: a カナ prefix is a range inside the gram's range.
        prefix = query.kana.replace(" ", "")
        where.append("g.kana_key >= %s AND g.kana_key < %s")
        extra_params += [prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)]
    rest = dataclasses.replace(query, name="", status="all")
    if not rest.is_empty():
        residents_sql, residents_params = filtered(rest).order_by().values("pk").query.sql_with_params()
        where.append(f"g.resident_id IN ({residents_sql})")
        extra_params.extend(residents_params)
    for gram in grams:
        if gram != driver:
            where.append(f"EXISTS (SELECT 1 FROM {GRAM_TABLE} o WHERE o.resident_id = g.resident_id AND o.gram = %s)")  # noqa: S608
            extra_params.append(gram)
    branch = (
        f"(SELECT g.resident_id, g.kana_key, g.birth_date FROM {GRAM_TABLE} g WHERE {' AND '.join(where)} "  # noqa: S608
        "ORDER BY g.kana_key, g.birth_date, g.resident_id LIMIT %s)"
    )
    statuses = [query.status] if query.status in ResidentStatus.values else list(ResidentStatus.values)
    # One index range per status; with both, two ranges of at most `batch` rows each, merged by a tiny sort.
    sql = f"SELECT * FROM ({' UNION ALL '.join([branch] * len(statuses))}) AS u ORDER BY 2, 3, 1 LIMIT %s"  # noqa: S608
    needs_recheck = len(query.name) > 2
    found: list[int] = []
    key = start or ("", dt.date.min, 0)
    batch = wanted
    while len(found) < wanted:
        params: list = []
        for status in statuses:
            params += [driver, status, *key, *extra_params, batch]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, batch])
            candidates = cursor.fetchall()
        ids = [c[0] for c in candidates]
        if needs_recheck and ids:
            names = Resident.objects.filter(pk__in=ids).values_list("pk", "surname", "given_name")
            folded = {pk: fold_name(surname) + fold_name(given_name) for pk, surname, given_name in names}
            ids = [i for i in ids if query.name in folded.get(i, "")]
        found.extend(i for i in ids if i not in hidden)
        if len(candidates) < batch:
            break
        last = candidates[-1]
        key = (last[1], last[2], last[0])
        batch = min(batch * 4, 5_000)  # a long name whose bigrams are common but rarely adjacent: read on faster
    return found[:wanted]


def _rarest(grams: list[str]) -> str:
    """Of a query's bigrams, the one whose posting list is probably shortest (the recheck does the rest).

    Uses the planner's own statistics of the gram column (pg_stats, most common values): a gram that is not among
    them is rarer than every one that is. No rows are counted."""
    if len(grams) == 1:
        return grams[0]
    frequency = _common_gram_frequencies()
    return min(grams, key=lambda g: (frequency.get(g, 0.0), grams.index(g)))


_FREQUENCIES: dict[str, tuple[float, dict[str, float]]] = {}  # per database alias: (read at, frequencies)
FREQUENCIES_MAX_AGE = 600.0  # seconds; the planner's statistics change only with ANALYZE


def _common_gram_frequencies() -> dict[str, float]:
    """The most common grams and their share of the gram table (pg_stats), read at most every ten minutes."""
    cached = _FREQUENCIES.get(connection.alias)
    if cached and time.monotonic() - cached[0] < FREQUENCIES_MAX_AGE:
        return cached[1]
    frequencies = _read_common_gram_frequencies()
    _FREQUENCIES[connection.alias] = (time.monotonic(), frequencies)
    return frequencies


def _read_common_gram_frequencies() -> dict[str, float]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_vals::text::text[], most_common_freqs FROM pg_stats "
            "WHERE tablename = %s AND attname = 'gram'",
            [GRAM_TABLE],
        )
        row = cursor.fetchone()
    if not row or not row[0]:
        return {}
    return dict(zip(row[0], row[1], strict=False))


def normalise_address(text: str) -> str:
    """住所 as typed → as stored: full-width digits to ASCII, 「2丁目」 to 「二丁目」, 「北新宿4-18-5」 to
    「北新宿四丁目18番5号」 (the ward writes 丁目 in kanji, 番・号 in digits)."""
    value = unicodedata.normalize("NFKC", text).strip()
    value = _SPACES.sub("", value)
    value = re.sub(r"(?<=\d)[‐―ー−](?=\d)", "-", value)  # 4ー18ー5 and the like: dashes between digits
    m = re.fullmatch(r"(?P<town>\D*?)(?P<c>\d{1,2})-(?P<b>\d{1,4})(?:-(?P<g>\d{1,4}))?", value)
    if m:
        value = f"{m['town']}{_kanji_number(int(m['c']))}丁目{m['b']}番" + (f"{m['g']}号" if m["g"] else "")
    return re.sub(r"(\d{1,2})丁目", lambda mm: f"{_kanji_number(int(mm[1]))}丁目", value)


_KANJI_DIGITS = "〇一二三四五六七八九"


def _kanji_number(n: int) -> str:
    if n < 10:
        return _KANJI_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _KANJI_DIGITS[tens]) + "十" + (_KANJI_DIGITS[ones] if ones else "")
