"""The load client of bench/web_bench.py: virtual clerks over raw HTTP/1.1 sockets (asyncio, no dependency).

Each clerk has a connection and cookies of its own, logs in through the real login form (CSRF token from the page,
cookie jar), then sends one request at a time, as a person at the window does: a search, then the 住民票 of one of
the persons found, then the next search. The connection is kept alive when the server allows it (gunicorn's sync
workers do not: they answer `Connection: close`, so each request opens a new loopback connection, as the browsers
behind the ward's proxy would not — part of what is measured).

The pure parts (query mix, HTML scraping, percentiles, the summary of a phase) are tested in
bench/tests/test_web_bench.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

SEARCH_PATH = "/residents/"
RECORD_PATH = "/residents/{id}/"
LOGIN_PATH = "/login/"
SEARCH_KINDS = ("kana", "kanji", "birth", "code")
# The clerk's searches, by weight: readings and names most, then birth dates and 住民票コード (typed from a card).
DEFAULT_WEIGHTS = {"kana": 3, "kanji": 3, "birth": 2, "code": 2}
RECORD = "record"

_RESIDENT_LINK = re.compile(rb'href="/residents/(\d+)/"')
_CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
_ERAS = (  # first day of each era (common/wareki.py), for the short 和暦 a clerk types: S45.3.2
    ("R", dt.date(2019, 5, 1)),
    ("H", dt.date(1989, 1, 8)),
    ("S", dt.date(1926, 12, 25)),
    ("T", dt.date(1912, 7, 30)),
    ("M", dt.date(1873, 1, 1)),
)


# --- The query mix ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A current, unrestricted dummy resident the search terms are drawn from."""

    id: int
    surname: str
    given_name: str
    surname_kana: str
    given_name_kana: str
    birth_date: dt.date
    juminhyo_code: str


@dataclass(frozen=True)
class Step:
    kind: str  # one of SEARCH_KINDS, "record", or the label of a constant path ("bare")
    path: str

    @property
    def is_search(self) -> bool:
        return self.kind in SEARCH_KINDS


def hiragana(katakana: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in katakana)


def short_wareki(date: dt.date) -> str:
    """`1970-03-02` → `S45.3.2` (the first year of an era is 1)."""
    for letter, start in _ERAS:
        if date >= start:
            return f"{letter}{date.year - start.year + 1}.{date.month}.{date.day}"
    return date.isoformat()


def search_params(kind: str, person: Person, rng: random.Random) -> dict[str, str]:
    """What a clerk types for one kind of search, drawn from one person (so that it finds at least that person)."""
    if kind == "kana":  # prefix: the reading of the 氏, often with the first sound of the 名; in hiragana or katakana
        text = person.surname_kana
        if rng.random() < 0.5:
            text += " " + person.given_name_kana[:1]
        return {"kana": hiragana(text) if rng.random() < 0.5 else text}
    if kind == "kanji":  # part of the name: the 氏, the 名, or the 氏 with the first character of the 名
        choice = rng.randrange(3)
        text = (
            person.surname
            if choice == 0
            else person.given_name
            if choice == 1
            else person.surname + person.given_name[:1]
        )
        return {"name": text}
    if kind == "birth":
        return {"birth_date": short_wareki(person.birth_date) if rng.random() < 0.5 else person.birth_date.isoformat()}
    if kind == "code":
        return {"juminhyo_code": person.juminhyo_code}
    raise ValueError(f"unknown search kind: {kind}")


class ClerkScript:
    """One clerk's requests: a search of a kind drawn by weight, then the 住民票 of one person it found (if any)."""

    def __init__(self, people: Sequence[Person], rng: random.Random, weights: dict[str, int] | None = None) -> None:
        if not people:
            raise ValueError("no persons to draw search terms from")
        self.people = people
        self.rng = rng
        weights = weights or DEFAULT_WEIGHTS
        self.kinds = [k for k in SEARCH_KINDS if weights.get(k)]
        self.weights = [weights[k] for k in self.kinds]
        self._after_search = False

    def next_step(self, found: Sequence[int] = ()) -> Step:
        """The next request; `found` holds the resident ids the previous answer linked to."""
        if self._after_search and found:
            self._after_search = False
            return Step(RECORD, RECORD_PATH.format(id=self.rng.choice(found)))
        kind = self.rng.choices(self.kinds, self.weights)[0]
        params = search_params(kind, self.rng.choice(self.people), self.rng)
        self._after_search = True
        return Step(kind, f"{SEARCH_PATH}?{urlencode(params)}")


class ConstantScript:
    """The same path every time (the bare reference view)."""

    def __init__(self, kind: str, path: str) -> None:
        self.step = Step(kind, path)

    def next_step(self, found: Sequence[int] = ()) -> Step:
        return self.step


def resident_ids(html: bytes) -> list[int]:
    """The 住民票 a results page links to (masked rows have no link), in page order, without repeats."""
    return list(dict.fromkeys(int(m) for m in _RESIDENT_LINK.findall(html)))


def csrf_token(html: bytes) -> str:
    match = _CSRF_INPUT.search(html)
    if match is None:
        raise LoginFailed("no csrfmiddlewaretoken in the login page")
    return match.group(1).decode("ascii")


# --- Statistics ------------------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0–100) with linear interpolation between the closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Sample:
    kind: str
    status: int  # HTTP status; 0 when no answer came (timeout, connection refused)
    started: float  # time.perf_counter()
    seconds: float
    measured: bool  # False during the warm-up
    round: int = 0  # phases may run in several rounds, alternating with other phases


@dataclass
class PhaseStats:
    requests: int  # measured requests (after the warm-up)
    total_requests: int  # every request sent, warm-up included (what the access log must hold)
    window_s: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    errors: dict[str, int]  # by status ("0" = no answer), measured or not
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)
    kinds_total: dict[str, int] = field(default_factory=dict)  # every request sent, by kind

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def summarise(samples: Sequence[Sample], ok_status: int = 200) -> PhaseStats:
    """Throughput and latency of the measured samples; errors (any status but `ok_status`) of all of them.

    The window of a round runs from its first measured start to its last measured end (so the requests still running
    when the clerks stop count with the time they took); the windows of the rounds add up."""
    measured = [s for s in samples if s.measured]
    errors = Counter(str(s.status) for s in samples if s.status != ok_status)
    window = 0.0
    for number in sorted({s.round for s in measured}):
        in_round = [s for s in measured if s.round == number]
        begin = min(s.started for s in in_round)
        end = max(s.started + s.seconds for s in in_round)
        window += max(end - begin, 1e-9)
    ms = [s.seconds * 1000 for s in measured]
    by_kind_ms: dict[str, list[float]] = defaultdict(list)
    for s in measured:
        by_kind_ms[s.kind].append(s.seconds * 1000)
    return PhaseStats(
        requests=len(measured),
        total_requests=len(samples),
        window_s=window,
        rps=len(measured) / window if window else 0.0,
        p50_ms=percentile(ms, 50),
        p95_ms=percentile(ms, 95),
        p99_ms=percentile(ms, 99),
        mean_ms=sum(ms) / len(ms) if ms else math.nan,
        errors=dict(sorted(errors.items())),
        by_kind={
            kind: {"count": len(v), "p50_ms": percentile(v, 50), "p95_ms": percentile(v, 95)}
            for kind, v in sorted(by_kind_ms.items())
        },
        kinds_total=dict(sorted(Counter(s.kind for s in samples).items())),
    )


# --- HTTP/1.1 over asyncio -------------------------------------------------------------------------------------------


class LoginFailed(RuntimeError):
    pass


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]  # names in lower case
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    def all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k == name]


def parse_head(head: bytes) -> tuple[int, list[tuple[str, str]]]:
    """Status line and headers of an HTTP/1.x response (the bytes up to the blank line)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x response: {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return int(parts[1]), headers


class CookieJar:
    """Name → value for one host; what Set-Cookie says, with deletion (Max-Age=0 or an expiry in 1970)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def update(self, set_cookies: Sequence[str]) -> None:
        for line in set_cookies:
            pair, *attributes = line.split(";")
            name, _, value = pair.strip().partition("=")
            value = value.strip().strip('"')
            attrs = {a.strip().split("=", 1)[0].lower(): a.strip().partition("=")[2] for a in attributes}
            gone = attrs.get("max-age", "").strip() == "0" or "1970" in attrs.get("expires", "")
            if gone:
                self.values.pop(name, None)
            else:
                self.values[name] = value

    def header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.values.items())


class Connection:
    """One HTTP/1.1 connection to 127.0.0.1:port, opened again whenever the server closed it."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reused = False
        self.connects = 0

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> Response:
        return await asyncio.wait_for(self._request(method, target, headers, body), self.timeout)

    async def _request(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
                self.connects += 1
                self.reused = False
            reused = self.reused
            try:
                self.writer.write(data)
                await self.writer.drain()
                response = await self._read(method)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if reused and attempt == 1:  # the server closed a kept-alive connection meanwhile: once more
                    continue
                raise
            if (response.header("connection") or "").lower() == "close":
                self.close()
            else:
                self.reused = True
            return response
        raise AssertionError("unreachable")

    async def _read(self, method: str) -> Response:
        assert self.reader is not None  # noqa: S101
        head = await self.reader.readuntil(b"\r\n\r\n")
        status, headers = parse_head(head[:-4])
        response = Response(status, headers, b"")
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return response
        length = response.header("content-length")
        if length is not None:
            response.body = await self.reader.readexactly(int(length))
        elif "chunked" in (response.header("transfer-encoding") or "").lower():
            chunks = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0].strip(), 16)
                if size == 0:
                    while (await self.reader.readline()) not in (b"\r\n", b""):
                        pass
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            response.body = b"".join(chunks)
        else:
            response.body = await self.reader.read()
            self.close()
        return response


class Clerk:
    """One virtual clerk: a connection and a cookie jar of its own."""

    def __init__(self, port: int, timeout: float, extra_headers: dict[str, str] | None = None) -> None:
        self.connection = Connection(port, timeout)
        self.cookies = CookieJar()
        self.extra_headers = extra_headers or {}

    def _headers(self, **more: str) -> dict[str, str]:
        headers = {"User-Agent": "web-bench", "Accept": "text/html", "Accept-Encoding": "identity"}
        headers.update(self.extra_headers)
        if self.cookies.values:
            headers["Cookie"] = self.cookies.header()
        headers.update(more)
        return headers

    async def get(self, path: str) -> Response:
        response = await self.connection.request("GET", path, self._headers())
        self.cookies.update(response.all("set-cookie"))
        return response

    async def post_form(self, path: str, fields: dict[str, str]) -> Response:
        body = urlencode(fields).encode("ascii")
        headers = self._headers(**{"Content-Type": "application/x-www-form-urlencoded"})
        response = await self.connection.request("POST", path, headers, body)
        self.cookies.update(response.all("set-cookie"))
        return response

    async def login(self, username: str, password: str) -> None:
        """Through the real form: the page (CSRF cookie and token), then the POST; a 302 with a session cookie."""
        page = await self.get(LOGIN_PATH)
        if page.status != 200:
            raise LoginFailed(f"GET {LOGIN_PATH}: HTTP {page.status}")
        fields = {"csrfmiddlewaretoken": csrf_token(page.body), "username": username, "password": password, "next": ""}
        answer = await self.post_form(LOGIN_PATH, fields)
        if answer.status != 302 or "sessionid" not in self.cookies.values:
            raise LoginFailed(f"POST {LOGIN_PATH} as {username}: HTTP {answer.status}, no session")

    def close(self) -> None:
        self.connection.close()


# --- One phase of load -----------------------------------------------------------------------------------------------


async def _one_clerk(
    clerk: Clerk, script, samples: list[Sample], measure_from: float, stop_at: float, round_no: int
) -> None:
    found: Sequence[int] = ()
    while time.perf_counter() < stop_at:
        step = script.next_step(found)
        started = time.perf_counter()
        try:
            response = await clerk.get(step.path)
            status = response.status
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            clerk.close()
            response, status = None, 0
        elapsed = time.perf_counter() - started
        samples.append(Sample(step.kind, status, started, elapsed, started >= measure_from, round_no))
        found = resident_ids(response.body) if step.is_search and status == 200 and response is not None else ()


async def run_phase(
    clerks: Sequence[Clerk],
    scripts: Sequence,
    warmup: float,
    duration: float,
    round_no: int = 0,
) -> list[Sample]:
    """Every clerk sends requests one after the other for warmup + duration seconds; the samples of all of them."""
    samples: list[Sample] = []
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    tasks = [
        asyncio.create_task(_one_clerk(c, s, samples, measure_from, stop_at, round_no))
        for c, s in zip(clerks, scripts, strict=True)
    ]
    await asyncio.gather(*tasks)
    return samples
