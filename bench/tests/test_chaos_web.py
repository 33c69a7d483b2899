"""The pure parts of `make chaos`'s web harness (bench/chaos/clerk.py): the forms a clerk submits as a browser would,
the cookie jar, how an answer is judged (the 503 page with a request id, or no answer at all), and the figures."""

from __future__ import annotations

import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.chaos.clerk import (
    MESSAGE_503,
    Clerk,
    Journal,
    Window,
    addresses,
    form_with_button,
    forms_of,
    percentile,
    rise_percent,
)
from devtools.instances import free_port

MOVE_FORM = """
<form method="get" action="/residents/"><input name="kana" value=""><button type="submit">検索</button></form>
<form method="post" novalidate class="entry-form">
  <input type="hidden" name="csrfmiddlewaretoken" value="tok">
  <input type="hidden" name="entry_key" value="key-1">
  <input type="checkbox" name="residents" value="1" checked>
  <input type="checkbox" name="residents" value="2">
  <input type="radio" name="destination" value="new_address" checked>
  <input type="radio" name="destination" value="household">
  <input type="text" name="address" size="50">
  <select name="new_head"><option value="" selected>（選ばない）</option><option value="1">一郎</option></select>
  <select name="remaining_head"><option value="">（選ばない）</option><option value="2">花子</option></select>
  <select name="kind"><option>転居</option></select>
  <textarea name="note">備考&amp;メモ</textarea>
  <input type="text" name="change_date" value="令和8年11月26日（2026-11-26）">
  <button type="submit" name="step" value="confirm">確認へ進む</button>
  <button type="submit" name="step" value="cancel" formnovalidate>取消</button>
</form>
"""


def test_the_form_is_submitted_as_a_browser_would():
    form = form_with_button(MOVE_FORM, "step", "confirm")
    assert form is not None
    assert form.method == "post"
    assert form.fields == [
        ("csrfmiddlewaretoken", "tok"),
        ("entry_key", "key-1"),
        ("residents", "1"),  # only the checked box
        ("destination", "new_address"),  # only the checked radio
        ("address", ""),
        ("new_head", ""),
        ("remaining_head", ""),  # no option selected: the first
        ("kind", "転居"),  # an option without a value sends its text
        ("note", "備考&メモ"),
        ("change_date", "令和8年11月26日（2026-11-26）"),
    ]
    sent = form.data(("step", "confirm"), address="西新宿一丁目1番1号")
    assert ("address", "西新宿一丁目1番1号") in sent
    assert ("address", "") not in sent
    assert sent[-1] == ("step", "confirm")
    assert ("step", "cancel") not in sent


def test_a_page_without_the_button_has_no_such_form():
    assert form_with_button(MOVE_FORM, "step", "record") is None
    assert [f.method for f in forms_of(MOVE_FORM)] == ["get", "post"]


class _Server:
    """A stand-in web tier on loopback: answers with what `reply` says (status, headers, body)."""

    def __init__(self, reply) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802 - BaseHTTPRequestHandler's naming
                status, headers, body = reply(self)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> int:
        self.thread.start()
        return self.server.server_address[1]

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _page(request_id: str, message: str = MESSAGE_503) -> bytes:
    return f"<p>{message}</p><code>{request_id}</code>".encode()


@pytest.mark.parametrize(
    ("headers", "body", "outage_page"),
    [
        ([("X-Request-ID", "a" * 32)], _page("a" * 32), True),
        ([], _page("a" * 32), False),  # no request id in the header
        ([("X-Request-ID", "a" * 32)], _page("b" * 32), False),  # the page names another request
        ([("X-Request-ID", "a" * 32)], _page("a" * 32, "Service Unavailable"), False),  # not our page
    ],
)
def test_only_the_japanese_503_page_with_its_request_id_counts_as_a_clear_answer(headers, body, outage_page):
    with _Server(lambda request: (503, headers, body)) as port:
        journal = Journal()
        answer, text = Clerk(port, "c", journal).request("page", "GET", "/residents/1/")
    assert answer.status == 503
    assert answer.outage_page is outage_page
    assert answer.ok is False
    assert journal.answers == [answer]


def test_no_answer_at_all_is_status_zero():
    journal = Journal()
    answer, text = Clerk(free_port(), "c", journal).request("page", "GET", "/")  # nothing listens there
    assert answer.status == 0
    assert answer.error == "ConnectionRefusedError"
    assert not answer.outage_page
    assert not answer.ok


def test_the_cookie_jar_keeps_sets_and_forgets_cookies():
    def reply(request):
        if request.path == "/login/":
            return 302, [("Set-Cookie", "sessionid=s1; HttpOnly; Path=/"), ("Set-Cookie", "csrftoken=t1; Path=/")], b""
        if request.path == "/logout/":
            return 200, [("Set-Cookie", 'sessionid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/')], b""
        return 200, [("X-Seen", request.headers.get("Cookie", ""))], b""

    with _Server(reply) as port:
        clerk = Clerk(port, "c", Journal())
        assert clerk.request("login", "GET", "/login/", expect=302)[0].ok
        assert clerk.cookies == {"sessionid": "s1", "csrftoken": "t1"}
        clerk.request("page", "GET", "/logout/")
        assert clerk.cookies == {"csrftoken": "t1"}


def test_addresses_do_not_repeat_for_one_clerk():
    drawn = [address for _, address in zip(range(500), addresses(3), strict=False)]
    assert len(set(drawn)) == 500
    assert all(a.startswith("西新宿四丁目") for a in drawn)


def test_percentile_and_rise():
    values = list(range(100, 0, -1))
    assert percentile(values, 95) == 95
    assert math.isnan(percentile([], 95))
    assert rise_percent(200.0, 220.0) == pytest.approx(10.0)
    assert rise_percent(200.0, 150.0) == pytest.approx(-25.0)
    assert math.isnan(rise_percent(0.0, 10.0))


def test_a_window_holds_its_start_but_not_its_end():
    window = Window("outage", 10.0, 20.0)
    assert window.holds(10.0)
    assert window.holds(19.99)
    assert not window.holds(20.0)
    assert not window.holds(9.99)
