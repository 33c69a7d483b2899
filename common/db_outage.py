"""A database that cannot be reached: the clerk gets a plain Japanese page (503) with the request id, never a
traceback and never a connection closed without an answer.

`DatabaseOutageMiddleware` (listed right after the header middleware in settings.MIDDLEWARE, before the session and
authentication middleware that are the first to query) turns a lost or refused database connection into 503 with
templates/503.html:

- raised by a view: caught in `process_exception`;
- raised by a middleware inside it (loading the session, the user, the audit context, writing the access-log entry
  on the way out): Django has already turned it into a 500 response by then, so a receiver of
  `got_request_exception` marks the request, and the middleware swaps that response for the 503 page.

The page is rendered from a plain template without the request: no context processor runs (the menu and the ward's
name read the database), and nothing in it queries. Other database errors (a lock not obtained, a constraint, a
statement timeout) are not outages and stay ordinary 500 errors.

The broken connection itself is dropped by Django at the end of the request (`close_old_connections` closes a
connection that saw an error and is no longer usable), so the next request connects afresh: the web tier recovers
by itself when the database is back. With CONN_MAX_AGE a connection that saw no error during the outage is only
found broken by its next query, unless CONN_HEALTH_CHECKS is on.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.template.loader import get_template

logger = logging.getLogger(__name__)

TEMPLATE = "503.html"
RETRY_AFTER_SECONDS = 30
MARK = "_database_outage"  # request attribute set when a database outage was turned into a 500 response
# SQLSTATE classes and codes of a lost or refused connection (PostgreSQL): 08 connection exception, 57P01 admin
# shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting up or shutting down).
CONNECTION_SQLSTATE_CLASSES = ("08",)
CONNECTION_SQLSTATES = ("57P01", "57P02", "57P03")


def _sqlstate(exc: BaseException) -> str | None:
    for candidate in (exc, exc.__cause__):
        state = getattr(candidate, "sqlstate", None)
        if state:
            return str(state)
    return None


def is_outage(exc: BaseException | None) -> bool:
    """Whether `exc` (or an exception it was raised from or during) means the database cannot be reached: an
    InterfaceError (the connection is gone), or an OperationalError without an SQLSTATE (the driver could not
    connect or lost the server) or with one of a lost connection or a server shutting down or starting."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, InterfaceError):
            return True
        if isinstance(exc, OperationalError):
            state = _sqlstate(exc)
            if state is None or state.startswith(CONNECTION_SQLSTATE_CLASSES) or state in CONNECTION_SQLSTATES:
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def outage_response(request: HttpRequest, exc: BaseException | None = None) -> HttpResponse:
    """The 503 page, rendered without the request (no context processors, no query)."""
    request_id = getattr(request, "request_id", None) or uuid.uuid4().hex
    logger.warning(
        "database unavailable: %s on %s %s (request %s)",
        type(exc).__name__ if exc is not None else "error",
        request.method,
        request.path[:200],
        request_id,
    )
    body = get_template(TEMPLATE).render({"request_id": request_id})
    response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    response["X-Request-ID"] = request_id
    return response


@receiver(got_request_exception, dispatch_uid="common.db_outage.mark")
def _mark_outage(sender, request: HttpRequest | None = None, **kwargs) -> None:
    """Called by Django while it turns an exception into a 500 response (sys.exc_info() is that exception)."""
    exc = sys.exc_info()[1]
    if request is not None and is_outage(exc):
        setattr(request, MARK, exc)


class DatabaseOutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        exc = getattr(request, MARK, None)
        if exc is not None:
            return outage_response(request, exc)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_outage(exception):
            return outage_response(request, exception)
        return None
