"""戸籍検索: the one query behind the search screen (a selector: it reads, never writes, and knows nothing of HTTP),
beside the 住民検索 of registry/search.py and built from its pieces. By 本籍 (partial) and 筆頭者 (氏名 partial, カナ
prefix), newest 戸籍 first.

On PostgreSQL (migration 0005): pg_trgm GIN on the 本籍, a GIN expression index over `registry_name_grams(筆頭者の氏,
筆頭者の名)` (the name grams of the 住民検索) and a partial expression index on the カナ of each 戸籍's first 附票 row
(the 筆頭者 is written first). Results are ordered by id descending, keyset by id, fetched as limit+1 rows: nothing is
counted. On other databases (SQLite for development) the same conditions run as plain filters.
"""

from dataclasses import asdict, dataclass

from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import Func, QuerySet, TextField

from registry.search import NARROW, KanaKey, ensure_sqlite_functions, prefix_range, query_grams, search_plans

from .choices import KosekiStatus
from .models import FuhyoEntry, Koseki

PAGE_SIZE = 50
MIN_HONSEKI_ONLY_CHARS = 3  # pg_trgm needs three characters


@dataclass(frozen=True)
class KosekiQuery:
    honseki: str = ""
    hittousha: str = ""  # folded name (registry.search.fold_name)
    hittousha_kana: str = ""  # katakana prefix
    status: str = "all"

    def is_empty(self) -> bool:
        return not (self.honseki or self.hittousha or self.hittousha_kana)

    def as_conditions(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v}


class HittoushaGrams(Func):
    """registry_name_grams(筆頭者の氏, 筆頭者の名): the expression the GIN index of migration 0005 is built on."""

    function = "registry_name_grams"
    output_field = ArrayField(TextField())

    def __init__(self) -> None:
        super().__init__("hittousha_surname", "hittousha_given_name")


class HittoushaFold(Func):
    output_field = TextField()

    def __init__(self) -> None:
        super().__init__("hittousha_surname", "hittousha_given_name")

    def as_sql(self, compiler, connection, **extra):
        (s, sp), (g, gp) = (compiler.compile(e) for e in self.get_source_expressions())
        return f"(registry_name_fold({s}) || registry_name_fold({g}))", [*sp, *gp]


def _with_hittousha(qs: QuerySet[Koseki], query: KosekiQuery) -> QuerySet[Koseki]:
    """The identity conditions: 筆頭者の氏名 (partial) and カナ (prefix)."""
    if query.hittousha:
        if connection.vendor == "postgresql":
            qs = qs.alias(grams=HittoushaGrams()).filter(grams__contains=query_grams(query.hittousha))
        if connection.vendor != "postgresql" or len(query.hittousha) > 2:
            qs = qs.alias(folded=HittoushaFold()).filter(folded__contains=query.hittousha)
    if query.hittousha_kana:
        firsts = FuhyoEntry.objects.filter(position=1).alias(kana_key=KanaKey())
        qs = qs.filter(pk__in=firsts.filter(prefix_range("kana_key", query.hittousha_kana)).values("koseki_id"))
    return qs


def search_koseki(
    query: KosekiQuery, *, user=None, after: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list, int | None, set[int]]:
    """One page of 戸籍 (newest first), the id to continue after (None on the last page), and the ids of the 戸籍
    shown masked.

    A 戸籍 whose 筆頭者 (its first 附票 row) is restricted for `user` (everyone restricted without a user) is not
    searched by 本籍 or status: it comes back masked when the 筆頭者's name and カナ conditions alone match it, so that
    no 本籍 condition can ask a yes/no question about it (as 住民検索)."""
    if query.is_empty():
        return [], None, set()
    ensure_sqlite_functions()
    hidden = set(FuhyoEntry.objects.filter(position=1).masked_for(user).values_list("koseki_id", flat=True))
    rows, next_after = _search_visible(query, after, limit, hidden)
    identity = KosekiQuery(hittousha=query.hittousha, hittousha_kana=query.hittousha_kana)
    if not hidden or identity.is_empty():
        return rows, next_after, set()
    masked_qs = _with_hittousha(Koseki.objects.filter(pk__in=hidden), identity)
    masked = [pk for pk in masked_qs.values_list("pk", flat=True) if after is None or pk < after]
    if not masked:
        return rows, next_after, set()
    ids = sorted({*(k.pk for k in rows), *masked}, reverse=True)
    if next_after is not None:  # the visible search has more: the page ends at its last row at the latest
        ids = [pk for pk in ids if pk >= next_after][:limit]
        more = True
    else:
        more = len(ids) > limit
        ids = ids[:limit]
    by_id = Koseki.objects.in_bulk(ids)
    page = [by_id[pk] for pk in ids]
    return page, (ids[-1] if more and ids else None), {pk for pk in ids if pk in hidden}


def _search_visible(query: KosekiQuery, after: int | None, limit: int, hidden: set[int]) -> tuple[list, int | None]:
    qs: QuerySet[Koseki] = Koseki.objects.exclude(pk__in=hidden) if hidden else Koseki.objects.all()
    if query.status in KosekiStatus.values:
        qs = qs.filter(status=query.status)
    if query.honseki:
        qs = qs.filter(honseki_address__contains=query.honseki)
    qs = _with_hittousha(qs, query)
    if after:
        qs = qs.filter(pk__lt=after)
    with transaction.atomic(), search_plans():
        if query.honseki or query.hittousha_kana:
            # As in 住民検索: few matches are sorted directly, many are met soon enough walking the id order.
            few = list(qs.order_by().values_list("pk", flat=True)[: NARROW + 1])
            if len(few) <= NARROW:
                qs = Koseki.objects.filter(pk__in=few)
        rows = list(qs.order_by("-pk")[: limit + 1])
    return rows[:limit], (rows[limit - 1].pk if len(rows) > limit else None)
