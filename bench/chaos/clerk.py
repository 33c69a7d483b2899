"""The chaos harness's clerk (bench/chaos/web.py's scenarios drive it): a browser over HTTP on loopback that logs
in through the login form and records 転居 through the real screens (form → 確認 → 記録), searches and opens 住民票
pages; the journal of every answer and committed change of a crowd of clerks; the HTML forms it submits as a browser
would; and the figures (percentiles, windows) the scenarios report."""

from __future__ import annotations

import contextlib
import html.parser
import http.client
import itertools
import math
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

PASSWORD = "chaos-web-dummy-2468"  # noqa: S105 - throwaway accounts in a scratch database
USERNAME = "chaos-clerk-{}"
MESSAGE_503 = "データベースに接続できません。しばらくしてから再度お試しください。"
REQUEST_TIMEOUT = 30.0
PAUSE_AFTER_FAILURE = 0.25  # a clerk whose screen failed waits a moment before the next try


# --- Figures --------------------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def rise_percent(before: float, during: float) -> float:
    """How much `during` is above `before`, in % of `before` (negative: below). NaN without a baseline."""
    if not before or math.isnan(before) or math.isnan(during):
        return math.nan
    return (during - before) / before * 100


@dataclass(frozen=True)
class Window:
    name: str
    start: float  # time.time()
    end: float

    def holds(self, moment: float) -> bool:
        return self.start <= moment < self.end


# --- HTML forms -----------------------------------------------------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def has_button(self, name: str, value: str) -> bool:
        return (name, value) in self.buttons

    def data(self, button: tuple[str, str] | None = None, **override: str) -> list[tuple[str, str]]:
        """What a browser sends when `button` is pressed: the successful controls, with `override` replacing (or
        adding) single values."""
        out = [(k, v) for k, v in self.fields if k not in override]
        out += list(override.items())
        if button is not None:
            out.append(button)
        return out


class FormParser(html.parser.HTMLParser):
    """The forms of a page as a browser would submit them: text and hidden inputs with their values, checked boxes
    and radios, the selected option of each select (the first when none is), textareas; submit buttons apart."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._option: list[str] | None = None  # text of an option without a value attribute
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(method=a.get("method", "get").lower(), action=a.get("action", ""))
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image"):
                self._form.buttons.append((name, a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.fields.append((name, a.get("value", "on")))
            elif kind not in ("button", "reset", "file"):
                self._form.fields.append((name, a.get("value", "")))
        elif tag == "button" and name and a.get("type", "submit").lower() == "submit":
            self._form.buttons.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = (name, [])
        elif tag == "option" and self._select is not None:
            if "value" in a:
                self._select[1].append((a["value"], "selected" in a))
            else:
                self._option = []
                self._select[1].append(("", "selected" in a))
        elif tag == "textarea" and name:
            self._textarea = (name, [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)
        if self._option is not None and self._select is not None:
            self._option.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None and self._select is not None:
            value, selected = self._select[1][-1]
            self._select[1][-1] = ("".join(self._option).strip(), selected)
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options = self._select
            chosen = [v for v, selected in options if selected] or [v for v, _ in options[:1]]
            self._form.fields += [(name, v) for v in chosen[:1]]
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea[0], "".join(self._textarea[1])))
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms_of(page: str) -> list[Form]:
    parser = FormParser()
    parser.feed(page)
    parser.close()
    return parser.forms


def form_with_button(page: str, name: str, value: str) -> Form | None:
    return next((f for f in forms_of(page) if f.has_button(name, value)), None)


# --- A clerk over HTTP ----------------------------------------------------------------------------------------------


@dataclass
class Answer:
    """One request and how it was answered (status 0: no HTTP answer — refused, reset, timed out)."""

    clerk: str
    kind: str  # login, form, confirm, record, page, search
    method: str
    path: str
    started: float  # time.time()
    seconds: float
    status: int
    request_id: str = ""
    location: str = ""
    error: str = ""
    outage_page: bool = False  # the Japanese 503 page with a request id
    traceback_shown: bool = False
    ok: bool = False  # answered as the screen answers on success

    @property
    def answered(self) -> bool:
        return 200 <= self.status < 400


@dataclass(frozen=True)
class Move:
    """A 転居 the server answered 302 for: committed, as far as the clerk can tell."""

    request_id: str
    household_id: int
    address: str
    answered_at: float


class Journal:
    """Every answer and every committed change of all clerks (thread-safe)."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.moves: list[Move] = []
        self._lock = threading.Lock()

    def add(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)

    def committed(self, move: Move) -> None:
        with self._lock:
            self.moves.append(move)


class Clerk:
    """One clerk's browser: a cookie jar, one request at a time, a new loopback connection each (gunicorn's sync
    workers close it after every answer)."""

    def __init__(self, port: int, username: str, journal: Journal) -> None:
        self.port = port
        self.username = username
        self.journal = journal
        self.cookies: dict[str, str] = {}

    def _store_cookies(self, headers: list[tuple[str, str]]) -> None:
        for name, value in headers:
            if name.lower() != "set-cookie":
                continue
            jar = SimpleCookie()
            with contextlib.suppress(Exception):
                jar.load(value)
            for key, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value

    def request(
        self, kind: str, method: str, path: str, data: list[tuple[str, str]] | None = None, expect: int = 200
    ) -> tuple[Answer, str]:
        headers = {"Host": f"127.0.0.1:{self.port}", "Accept-Language": "ja"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started, clock = time.time(), time.perf_counter()
        answer = Answer(self.username, kind, method, path, started, 0.0, 0)
        text = ""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            answer.status = response.status
            answer.request_id = response.getheader("X-Request-ID", "") or ""
            answer.location = response.getheader("Location", "") or ""
            self._store_cookies(response.getheaders())
            text = raw.decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException) as exc:
            answer.error = type(exc).__name__
        finally:
            connection.close()
            answer.seconds = time.perf_counter() - clock
        answer.outage_page = answer.status == 503 and MESSAGE_503 in text and bool(answer.request_id)
        answer.outage_page = answer.outage_page and answer.request_id in text
        answer.traceback_shown = "Traceback" in text
        answer.ok = answer.status == expect
        self.journal.add(answer)
        return answer, text

    def login(self) -> None:
        answer, page = self.request("login", "GET", "/login/")
        form = next((f for f in forms_of(page) if any(k == "username" for k, _ in f.fields)), None)
        if not answer.ok or form is None:
            raise RuntimeError(f"{self.username}: no login form ({answer.status} {answer.error})")
        data = form.data(username=self.username, password=PASSWORD, next="/")
        answer, _ = self.request("login", "POST", "/login/", data, expect=302)
        if not answer.ok:
            raise RuntimeError(f"{self.username}: login refused ({answer.status})")

    def move(self, household_id: int, address: str, follow: bool = True) -> bool:
        """転居 of the whole 世帯 to `address` through form → 確認 → 記録 (and the 住民票 page it redirects to).
        True when the 記録 was answered 302."""
        path = f"/changes/move-within/{household_id}/"
        answer, page = self.request("form", "GET", path)
        form = form_with_button(page, "step", "confirm") if answer.ok else None
        if form is None:
            answer.ok = False
            return False
        answer, page = self.request("confirm", "POST", path, form.data(("step", "confirm"), address=address))
        form = form_with_button(page, "step", "record") if answer.ok else None
        if form is None:
            answer.ok = False
            return False
        answer, _ = self.request("record", "POST", path, form.data(("step", "record")), expect=302)
        target = urlsplit(answer.location).path
        if answer.ok and not target.startswith("/residents/"):
            answer.ok = False
        if not answer.ok:
            return False
        self.journal.committed(Move(answer.request_id, household_id, address, answer.started + answer.seconds))
        if follow:
            self.request("page", "GET", target)
        return True

    def search(self, kana: str) -> bool:
        answer, _ = self.request("search", "GET", "/residents/?" + urlencode({"kana": kana}))
        return answer.ok

    def page(self, resident_id: int) -> bool:
        answer, _ = self.request("page", "GET", f"/residents/{resident_id}/")
        return answer.ok


class Crowd:
    """`clerks` threads, each running `work(clerk, index, stop)` until told to stop (bounded join)."""

    def __init__(self, port: int, count: int, journal: Journal) -> None:
        self.clerks = [Clerk(port, USERNAME.format(i + 1), journal) for i in range(count)]
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.errors: list[str] = []

    def login(self) -> None:
        for clerk in self.clerks:
            clerk.login()

    def start(self, work: Callable[[Clerk, int, threading.Event], None]) -> None:
        def run(clerk: Clerk, index: int) -> None:
            try:
                work(clerk, index, self.stop)
            except Exception:  # noqa: BLE001 - reported as a failed check, not a crash of the harness
                self.errors.append(f"{clerk.username}: {traceback.format_exc(limit=5)}")

        for index, clerk in enumerate(self.clerks):
            thread = threading.Thread(target=run, args=(clerk, index), name=clerk.username, daemon=True)
            thread.start()
            self.threads.append(thread)

    def finish(self, timeout: float = REQUEST_TIMEOUT * 4) -> None:
        self.stop.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        stuck = [t.name for t in self.threads if t.is_alive()]
        if stuck:
            self.errors.append(f"clerks still running after {timeout:.0f} s: {', '.join(stuck)}")


def addresses(prefix: int) -> Iterator[str]:
    """New addresses in the ward, never the same twice for one clerk."""
    for n in itertools.count(1):
        yield f"西新宿{'一二三四五六七八'[prefix % 8]}丁目{1 + n // 40}番{1 + n % 40}号"


def mover(households: Sequence[int], clients: int) -> Callable[[Clerk, int, threading.Event], None]:
    """Work of a clerk who records 転居 of their own 世帯 in turn (no two clerks share a 世帯: no lock conflicts)."""

    def work(clerk: Clerk, index: int, stop: threading.Event) -> None:
        new = addresses(index)
        for household_id in itertools.cycle(list(households[index::clients])):
            if stop.is_set():
                return
            if not clerk.move(household_id, next(new)):
                stop.wait(PAUSE_AFTER_FAILURE)

    return work
