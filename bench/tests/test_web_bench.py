"""The pure parts of bench/web_bench.py and bench/web_load.py: the query mix, scraping the pages, the HTTP client's
parsing, percentiles, the summary of a phase and the assembly of the result (the benchmark itself is run by hand)."""

import asyncio
import datetime as dt
import math
import random
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import web_bench  # noqa: E402
import web_load  # noqa: E402
from result import Result  # noqa: E402
from web_load import ClerkScript, Person, Sample  # noqa: E402

from common.juminhyo_codes import random_juminhyo_code  # noqa: E402
from common.wareki import parse_date  # noqa: E402
from registry.forms.search import ResidentSearchForm  # noqa: E402
from registry.search import fold_name  # noqa: E402

PEOPLE = [
    Person(11, "山田", "花子", "ヤマダ", "ハナコ", dt.date(1970, 3, 2), random_juminhyo_code(random.Random(1))),
    Person(12, "髙橋", "一郎", "タカハシ", "イチロウ", dt.date(1989, 1, 8), random_juminhyo_code(random.Random(2))),
    Person(13, "佐藤", "みどり", "サトウ", "ミドリ", dt.date(2019, 5, 1), random_juminhyo_code(random.Random(3))),
]


# --- the query mix ---------------------------------------------------------------------------------------------------


def test_a_search_with_results_is_followed_by_the_record_of_a_person_found():
    script = ClerkScript(PEOPLE, random.Random(1))
    first = script.next_step()
    assert first.is_search
    assert first.path.startswith("/residents/?")
    record = script.next_step([101, 102])
    assert record.kind == "record"
    assert record.path in ("/residents/101/", "/residents/102/")
    assert script.next_step([103]).is_search  # after a record page: a new search, whatever the page linked to


def test_a_search_without_results_is_followed_by_another_search():
    script = ClerkScript(PEOPLE, random.Random(2))
    script.next_step()
    assert script.next_step([]).is_search


def test_the_kinds_of_search_follow_the_weights():
    script = ClerkScript(PEOPLE, random.Random(3), {"kana": 1, "kanji": 1, "birth": 0, "code": 2})
    kinds = Counter(script.next_step().kind for _ in range(4000))  # no results: searches only
    assert set(kinds) == {"kana", "kanji", "code"}
    assert 0.45 < kinds["code"] / 4000 < 0.55
    assert 0.2 < kinds["kana"] / 4000 < 0.3


def _form_of(path: str) -> ResidentSearchForm:
    return ResidentSearchForm(dict(parse_qsl(urlsplit(path).query)))


@pytest.mark.parametrize("kind", web_load.SEARCH_KINDS)
def test_every_search_is_valid_for_the_real_form_and_finds_its_person(kind):
    """What the script types passes the search form, and the cleaned condition matches the person it was drawn from."""
    rng = random.Random(kind)
    for _ in range(60):
        person = rng.choice(PEOPLE)
        params = web_load.search_params(kind, person, rng)
        form = _form_of("/residents/?" + web_load.urlencode(params))
        assert form.is_valid(), (params, form.errors)
        query = form.to_query()
        assert not query.is_empty()
        if kind == "kana":
            assert f"{person.surname_kana} {person.given_name_kana}".startswith(query.kana)
        elif kind == "kanji":
            assert query.name in fold_name(person.surname + person.given_name)
        elif kind == "birth":
            assert query.birth_date == person.birth_date
        else:
            assert query.juminhyo_code == person.juminhyo_code


@pytest.mark.parametrize(
    "date",
    [dt.date(1970, 3, 2), dt.date(1989, 1, 7), dt.date(1989, 1, 8), dt.date(2019, 4, 30), dt.date(2019, 5, 1),
     dt.date(1926, 12, 25), dt.date(1912, 7, 30), dt.date(2024, 12, 31)],
)  # fmt: skip
def test_the_short_wareki_is_read_back_by_the_application(date):
    assert parse_date(web_load.short_wareki(date)) == date


def test_the_script_needs_persons():
    with pytest.raises(ValueError, match="no persons"):
        ClerkScript([], random.Random(0))


# --- scraping and HTTP -----------------------------------------------------------------------------------------------


def test_resident_ids_are_the_linked_records_in_page_order():
    html = (
        b'<a class="row-link" href="/residents/42/" hx-boost="false">A</a><tr class="masked"></tr>'
        b'<a href="/residents/7/">B</a><a href="/residents/42/">A again</a><a href="/residents/?kana=x">next</a>'
    )
    assert web_load.resident_ids(html) == [42, 7]
    assert web_load.resident_ids(b"<p>none</p>") == []


def test_csrf_token_of_the_login_form():
    page = b'<form><input type="hidden" name="csrfmiddlewaretoken" value="abcDEF123"></form>'
    assert web_load.csrf_token(page) == "abcDEF123"
    with pytest.raises(web_load.LoginFailed):
        web_load.csrf_token(b"<form></form>")


def test_parse_head():
    status, headers = web_load.parse_head(b"HTTP/1.1 302 Found\r\nLocation: /\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2")
    assert status == 302
    assert headers == [("location", "/"), ("set-cookie", "a=1"), ("set-cookie", "b=2")]
    with pytest.raises(ValueError, match="not an HTTP"):
        web_load.parse_head(b"SSH-2.0-OpenSSH")


def test_the_cookie_jar_sets_replaces_and_deletes():
    jar = web_load.CookieJar()
    jar.update(["csrftoken=one; expires=Thu, 01 Jan 2099 00:00:00 GMT; Path=/", "sessionid=s1; HttpOnly; Path=/"])
    jar.update(["csrftoken=two; Path=/"])
    assert jar.values == {"csrftoken": "two", "sessionid": "s1"}
    jar.update(['sessionid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/'])
    assert jar.header() == "csrftoken=two"


def test_the_client_reads_length_chunked_and_close_delimited_answers_and_keeps_cookies():
    answers = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: sessionid=abc; Path=/\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nfoo\r\n4\r\nbar!\r\n0\r\n\r\n",
        b"HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nbye",
    ]
    seen: list[bytes] = []

    async def serve(reader, writer):
        for answer in answers:
            seen.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(answer)
            await writer.drain()
        writer.close()

    async def scenario():
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        clerk = web_load.Clerk(server.sockets[0].getsockname()[1], timeout=5)
        try:
            first = await clerk.get("/one")
            second = await clerk.get("/two")
            third = await clerk.get("/three")
        finally:
            clerk.close()
            server.close()
            await server.wait_closed()
        return clerk, first, second, third

    clerk, first, second, third = asyncio.run(scenario())
    assert (first.status, first.body) == (200, b"hello")
    assert (second.status, second.body) == (200, b"foobar!")
    assert (third.status, third.body) == (404, b"bye")
    assert clerk.connection.connects == 1  # kept alive until the server said close
    assert b"GET /two HTTP/1.1" in seen[1]
    assert b"Cookie: sessionid=abc" in seen[1]


# --- statistics ------------------------------------------------------------------------------------------------------


def test_percentiles_interpolate_between_ranks():
    values = [float(v) for v in range(100, 0, -1)]  # 1..100, unsorted
    assert web_load.percentile(values, 50) == pytest.approx(50.5)
    assert web_load.percentile(values, 95) == pytest.approx(95.05)
    assert web_load.percentile(values, 0) == 1
    assert web_load.percentile(values, 100) == 100
    assert web_load.percentile([7.5], 99) == 7.5
    assert math.isnan(web_load.percentile([], 50))


def test_summary_counts_the_measured_windows_of_every_round_and_all_errors():
    samples = [
        Sample("kana", 500, 0.0, 0.1, measured=False),  # warm-up: an error, but no latency
        Sample("kana", 200, 1.0, 0.010, True),
        Sample("record", 200, 1.5, 0.030, True),
        Sample("record", 302, 2.0, 0.020, True, round=0),  # round 0: 1.0 → 2.02
        Sample("kana", 200, 10.0, 0.5, True, round=1),  # round 1: 10.0 → 10.5
    ]
    stats = web_load.summarise(samples)
    assert stats.requests == 4
    assert stats.total_requests == 5
    assert stats.window_s == pytest.approx(1.02 + 0.5)
    assert stats.rps == pytest.approx(4 / 1.52)
    assert stats.errors == {"302": 1, "500": 1}
    assert stats.error_count == 2
    assert stats.kinds_total == {"kana": 3, "record": 2}
    assert stats.by_kind["record"]["count"] == 2
    assert stats.p50_ms == pytest.approx(25.0)


def test_lock_stats_of_the_activity_samples():
    stats = web_bench.lock_stats([(4, 2, 1, 1), (4, 3, 0, 0), (5, 1, 2, 0)], backend_cpu_s=1.5)
    assert stats.samples == 3
    assert stats.mean_lock_waiting == pytest.approx(1.0)
    assert stats.samples_chain_wait == 1
    assert stats.mean_active == pytest.approx(2.0)
    assert web_bench.lock_stats([]).samples == 0


# --- the result ------------------------------------------------------------------------------------------------------


def _phase(label: str, kinds: dict[str, int], seconds: float, window: float, access: int, cpu: float):
    samples = []
    for kind, count in kinds.items():
        for i in range(count):
            samples.append(Sample(kind, 200, window * i / count, seconds, True))
    phase = web_bench.PhaseRun(label, samples=samples, web_cpu_s=cpu, wall_s=window)
    if access:
        phase.audit = Counter({("access", "search.resident_search", "shown"): access})
    return phase


def _run(access_on: int, login_entries: int = 16) -> web_bench.SizeRun:
    return web_bench.SizeRun(
        size=100_000,
        workers=5,
        bare=_phase("bare", {"bare": 1000}, 0.004, 10, 0, 4.0),
        audit_on=_phase("log-on", {"kana": 100, "record": 100}, 0.020, 10, access_on, 2.2),
        audit_off=_phase("log-off", {"kana": 110, "record": 110}, 0.018, 10, 0, 2.2),
        logins=Counter({("account", "login", "done"): login_entries}),
        clerks=16,
        chain_ok=True,
        chain_detail="ok",
    )


def test_the_result_of_one_size():
    result = Result(name="web", title="t", machine={"cpus": 2})
    web_bench.add_size(result, _run(access_on=200))
    assert result.ok
    ratios = {r["label"]: r["value"] for r in result.ratios}
    assert ratios["混合負荷（ログあり）/ 素のビュー（100,000 人）"] == pytest.approx(0.2, abs=0.005)
    targets = {t["label"]: t for t in result.targets}
    assert targets["p95（ログあり、100,000 人）"]["met"] is True
    assert targets["素のビューに対するスループット（100,000 人）"]["met"] is True
    cost = targets["アクセスログのコスト（100,000 人）"]
    assert cost["value"] == pytest.approx(9.0, abs=0.2)  # 220 → 200 requests in 10 s
    assert cost["met"] is True
    figures = {f["label"]: f for f in result.figures}
    assert figures["混合負荷（アクセスログあり）スループット"]["size"] == 100_000
    assert figures["CPU/要求 gunicorn（ログあり）"]["value"] == pytest.approx(11.0)
    assert [r["label"] for r in result.reference][0] == "素の Django ビュー スループット"


def test_a_missing_access_entry_or_login_entry_fails_the_checks():
    result = Result(name="web", title="t", machine={"cpus": 2})
    web_bench.add_size(result, _run(access_on=199, login_entries=15))
    failed = [c["label"] for c in result.checks if not c["ok"]]
    assert failed == [
        "アクセスログの件数が要求数と一致（log-on、100,000 人）",
        "ログインごとに login 記録が一件、アクセス記録なし（100,000 人）",
    ]
    assert not result.ok


def test_the_ratios_between_sizes():
    small, large = _run(200), _run(200)
    large.size = 1_000_000
    large.audit_on = _phase("log-on", {"kana": 50, "record": 50}, 0.040, 10, 100, 2.0)
    result = Result(name="web", title="t", machine={"cpus": 2})
    web_bench.add_size_ratios(result, [large, small])
    ratios = {r["label"]: r["value"] for r in result.ratios}
    assert ratios["スループット 1,000,000 / 100,000（ログあり）"] == pytest.approx(0.5, abs=0.01)
    assert ratios["p95 1,000,000 / 100,000（ログあり）"] == pytest.approx(2.0)
    web_bench.add_size_ratios(single := Result(name="web", title="t", machine={"cpus": 2}), [small])
    assert single.ratios == []


def test_the_options():
    args = web_bench.parse_args(["--residents", "2000", "--duration", "5"])
    assert (args.sizes, args.rounds, args.clients) == ([2000], 2, 16)
    with pytest.raises(SystemExit):
        web_bench.parse_args(["--residents", "1,2", "--database-url", "postgres://x/y"])
    with pytest.raises(SystemExit):
        web_bench.parse_args(["--residents", "1,2", "--reuse", "only_one"])
