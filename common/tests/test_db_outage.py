"""The database outage page (common/db_outage.py): a lost or refused database connection anywhere in a request is
answered 503 with a Japanese page and the request id — no traceback, no query of its own — while other errors stay
ordinary 500 errors. This module is also the URLconf of its tests (views that fail the way an outage fails)."""

import re

import psycopg
import pytest
from django.db import IntegrityError, OperationalError, connection
from django.http import HttpResponse
from django.template.loader import get_template
from django.urls import path

from common.db_outage import is_outage

MESSAGE = "データベースに接続できません。しばらくしてから再度お試しください。"
REQUEST_ID = re.compile(r"<code>([0-9a-f]{32})</code>")


def refused(request):
    raise OperationalError('connection failed: connection to server at "127.0.0.1", port 5999 failed: refused')


def server_shut_down(request):
    raise OperationalError("terminating connection") from psycopg.errors.AdminShutdown("terminating connection")


def lock_not_available(request):
    raise OperationalError("could not obtain lock") from psycopg.errors.LockNotAvailable("could not obtain lock")


def constraint(request):
    raise IntegrityError("duplicate key")


def fine(request):
    return HttpResponse("ok")


urlpatterns = [
    path("refused/", refused),
    path("shut-down/", server_shut_down),
    path("lock/", lock_not_available),
    path("constraint/", constraint),
    path("fine/", fine),
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


@pytest.fixture
def web(client):
    client.raise_request_exception = False  # answer as the server would, instead of re-raising in the test
    return client


def _assert_outage_page(response) -> str:
    assert response.status_code == 503
    assert response["Content-Type"] == "text/html; charset=utf-8"
    body = response.content.decode()
    assert MESSAGE in body
    assert "Traceback" not in body
    assert "OperationalError" not in body
    assert "127.0.0.1" not in body  # nothing of the error's text reaches the page
    shown = REQUEST_ID.search(body)
    assert shown is not None
    assert response["X-Request-ID"] == shown.group(1)
    assert response["Retry-After"] == "30"
    assert "Content-Security-Policy" in response  # the header middleware still applies
    return shown.group(1)


@pytest.mark.parametrize("url", ["/refused/", "/shut-down/"])
def test_a_view_that_loses_the_database_gets_the_503_page_without_a_query(web, url, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = web.get(url)
    _assert_outage_page(response)


def test_the_page_names_the_request_id_of_the_audit_context(web, settings):
    # AuditContextMiddleware names the request before the view runs; the page shows the same id, not a new one.
    response = web.get("/refused/")
    request_id = _assert_outage_page(response)
    assert response.wsgi_request.request_id == request_id


def test_a_middleware_that_loses_the_database_gets_the_503_page(web, clerk):
    web.force_login(clerk)
    attempted: list[str] = []

    def down(execute, sql, params, many, context):
        attempted.append(sql)
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(down):
        response = web.get("/fine/")  # loading the session (for the audit context's user) is the first query
    _assert_outage_page(response)
    assert len(attempted) == 1  # the session's query; the error page tried nothing of its own
    assert "django_session" in attempted[0]


def test_the_next_request_after_the_outage_is_served(web, clerk):
    web.force_login(clerk)

    def down(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(down):
        assert web.get("/fine/").status_code == 503
    response = web.get("/fine/")
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.parametrize("url", ["/lock/", "/constraint/"])
def test_other_database_errors_stay_500_errors(web, url):
    response = web.get(url)
    assert response.status_code == 500
    body = response.content.decode()
    assert MESSAGE not in body
    assert "エラーが発生しました" in body  # templates/500.html
    assert "Traceback" not in body


def test_the_error_pages_render_without_request_or_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        outage = get_template("503.html").render({"request_id": "0" * 32})
        error = get_template("500.html").render({})
    assert MESSAGE in outage
    assert "0" * 32 in outage
    assert "予期しないエラーが発生しました" in error


@pytest.mark.parametrize(
    ("exc", "outage"),
    [
        (OperationalError("connection refused"), True),
        (psycopg.errors.AdminShutdown("terminating connection"), False),  # not wrapped by Django: not ours to judge
        (psycopg.errors.LockNotAvailable("lock"), False),
        (RuntimeError("boom"), False),
        (None, False),
    ],
)
def test_is_outage(exc, outage):
    assert is_outage(exc) is outage


def _raise_while_handling_an_outage() -> None:
    try:
        raise OperationalError("connection lost") from psycopg.errors.ConnectionFailure("lost")
    except OperationalError:
        raise ValueError("while handling") from None  # noqa: B904 - __context__ is kept with from None


def test_is_outage_follows_the_chain_of_a_raise_during_handling():
    with pytest.raises(ValueError, match="while handling") as raised:
        _raise_while_handling_an_outage()
    assert is_outage(raised.value)
