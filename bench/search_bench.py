"""Server time of 住民検索 (registry:search) on a seeded database: median and 95th percentile over varied queries.

    createdb -h 127.0.0.1 -U postgres ward_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/ward_bench DJANGO_ALLOW_DEV_SECRET=true
    python manage.py migrate && python manage.py seed_dummy --residents 1000000
    python bench/search_bench.py [--queries 400] [--seed 1] [--warmup 1]

Each query goes through the real view with Django's test Client: URL resolution, middleware, the gate (permission
check and the one hash-chained access-log entry per request), the form, the selector, masking and the template. The
time measured is the whole request inside the process — the server time, without network and browser. Queries are
drawn from the data itself (names, readings, birth dates, addresses, 世帯番号, 住民票コード of random residents) plus
the known hard cases: one and two common kanji (「田」「子」「田中」「佐藤」), one kana, 除票 and both, next pages.

Everything runs in one transaction that is rolled back at the end: the bench user, its session and the access-log
entries it writes vanish, so the database is left as it was. Only dummy data is read.
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_ALLOW_DEV_SECRET", "true")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Permission  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from common.wareki import to_wareki  # noqa: E402
from registry.models import Resident  # noqa: E402

HARD = [
    ("1 kanji (common)", {"name": "田"}),
    ("1 kanji (common)", {"name": "子"}),
    ("1 kanji (common)", {"name": "藤"}),
    ("2 kanji (common)", {"name": "田中"}),
    ("2 kanji (common)", {"name": "佐藤"}),
    ("2 kanji (common)", {"name": "高橋"}),
    ("1 kana", {"kana": "た"}),
    ("1 kanji 除票", {"name": "子", "status": "removed"}),
    ("2 kanji both", {"name": "鈴木", "status": "all"}),
    ("no match", {"name": "田中鬱"}),
]


def sample_residents(rng: random.Random, n: int) -> list[Resident]:
    """Random residents without counting: ids drawn between the smallest and largest id (both from the pk index)."""
    low = Resident.objects.order_by("pk").values_list("pk", flat=True).first()
    high = Resident.objects.order_by("-pk").values_list("pk", flat=True).first()
    if low is None:
        sys.exit("no residents: seed the database first (manage.py seed_dummy --residents 1000000)")
    ids = [rng.randint(low, high) for _ in range(n * 2)]
    found = list(Resident.objects.filter(pk__in=ids).select_related("household"))
    rng.shuffle(found)
    return found[:n]


def wareki_short(date) -> str:
    text = to_wareki(date)  # 令和6年5月27日 → R6.5.27
    letters = {"令和": "R", "平成": "H", "昭和": "S", "大正": "T", "明治": "M"}
    for era, letter in letters.items():
        if text.startswith(era):
            y, rest = text[len(era) :].split("年", 1)
            m, d = rest.rstrip("日").split("月")
            return f"{letter}{1 if y == '元' else y}.{m}.{d}"
    return date.isoformat()


def build_queries(rng: random.Random, total: int) -> list[tuple[str, dict]]:
    queries: list[tuple[str, dict]] = list(HARD)
    for r in sample_residents(rng, total):
        full = r.surname + r.given_name
        hira = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in r.surname_kana)
        kind = rng.randrange(12)
        if kind == 0:
            queries.append(("1 kanji", {"name": rng.choice(full)}))
        elif kind == 1:
            queries.append(("2 kanji", {"name": r.surname[:2]}))
        elif kind == 2:
            queries.append(("full name", {"name": f"{r.surname}　{r.given_name}"}))
        elif kind == 3:
            queries.append(("kana prefix (hiragana)", {"kana": hira[: rng.randint(1, 3)]}))
        elif kind == 4:
            queries.append(("kana 氏 名", {"kana": f"{r.surname_kana} {r.given_name_kana[:1]}"}))
        elif kind == 5:
            queries.append(("birth (wareki)", {"birth_date": wareki_short(r.birth_date)}))
        elif kind == 6:
            queries.append(("name + birth", {"name": r.surname, "birth_date": r.birth_date.isoformat()}))
        elif kind == 7:
            cut = r.address.find("番") + 1 or len(r.address)
            queries.append(("address", {"address": r.address[:cut]}))
        elif kind == 8:
            queries.append(("世帯番号", {"household_number": r.household.number.lstrip("0")}))
        elif kind == 9:
            queries.append(("住民票コード", {"juminhyo_code": r.juminhyo_code, "status": "all"}))
        elif kind == 10:
            queries.append(("name + address", {"name": r.surname[:1], "address": r.address[:4]}))
        else:
            queries.append(("name 両方", {"name": r.surname, "status": "all"}))
    return queries[: max(total, len(HARD))]


def bench_user():
    user = get_user_model().objects.create_user(username="search-bench", password=None)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="registry", codename="view_resident"))
    return get_user_model().objects.get(pk=user.pk)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(args) -> None:
    rng = random.Random(args.seed)
    url = reverse("registry:search")
    with transaction.atomic():
        client = Client(HTTP_HOST="localhost")
        client.force_login(bench_user())
        queries = build_queries(rng, args.queries)
        # Next pages: the second page of some broad queries (their "次へ" link).
        for label, params in list(queries[:40]):
            response = client.get(url, params)
            if response.status_code == 200 and b"after=" in response.content:
                after = response.content.split(b"after=", 1)[1].split(b'"', 1)[0].split(b"&", 1)[0].decode()
                queries.append((f"{label}, next page", {**params, "after": after}))
        for _ in range(args.warmup):
            for _, params in queries:
                client.get(url, params)
        server: list[float] = []
        sql: list[float] = []
        by_label: dict[str, list[float]] = defaultdict(list)
        slowest: list[tuple[float, str, dict]] = []
        for label, params in queries:
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(url, params)
                elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                sys.exit(f"{params}: HTTP {response.status_code}")
            if any("COUNT(" in q["sql"].upper() for q in captured.captured_queries):
                sys.exit(f"{params}: a COUNT query was run")
            server.append(elapsed)
            sql.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
            by_label[label.split(",")[0]].append(elapsed)
            slowest.append((elapsed, label, params))
        transaction.set_rollback(True)  # the bench user, its session and its access-log entries go away

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), current_setting('shared_buffers')")
        version, shared_buffers = cursor.fetchone()
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'registry_resident'")
        estimate = cursor.fetchone()[0] if connection.vendor == "postgresql" else None
    print(f"database: {connection.vendor} {version}, shared_buffers {shared_buffers}, ~{estimate:,} 住民票 rows")
    print(f"requests: {len(server)} (after {args.warmup} warm-up pass(es)), seed {args.seed}")
    print(f"server time  median {statistics.median(server):6.1f} ms   p95 {percentile(server, 95):6.1f} ms   "
          f"max {max(server):6.1f} ms")  # fmt: skip
    print(f"SQL time     median {statistics.median(sql):6.1f} ms   p95 {percentile(sql, 95):6.1f} ms")
    print("by kind (n, median, p95, max, ms):")
    for label, values in sorted(by_label.items()):
        print(
            f"  {label:<24} {len(values):4d} {statistics.median(values):7.1f} {percentile(values, 95):7.1f} "
            f"{max(values):7.1f}"
        )
    print("slowest:")
    for elapsed, label, params in sorted(slowest, key=lambda s: s[0], reverse=True)[:5]:
        print(f"  {elapsed:7.1f} ms  {label}: {urlencode(params)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=400, help="number of drawn queries (plus hard cases and pages)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured passes over all queries first")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
