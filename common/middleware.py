"""Enters the audit context for each web request (actor, request id, client address); refuses hostile input to the
Django admin with a 400 page."""

import logging
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import DataError
from django.http import HttpRequest, HttpResponse, QueryDict

from .context import audit_context
from .error_pages import bad_input

logger = logging.getLogger(__name__)


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        actor_id = user.pk if user is not None and user.is_authenticated else None
        with audit_context(actor_id, "web", remote_addr=request.META.get("REMOTE_ADDR")) as ctx:
            request.request_id = ctx.request_id
            response = self.get_response(request)
            response["X-Request-ID"] = ctx.request_id
            return response


ADMIN_BAD_INPUT = (
    "検索・絞り込みの条件が正しくありません（使えない文字や、範囲を超える値が含まれています）。"
    "条件を外して開き直してください。"
)
ADMIN_INPUT_ERRORS = (ValueError, OverflowError, DataError, ValidationError)


def _is_admin(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and "admin" in match.namespaces


def _has_nul(data: QueryDict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in data.lists())


class AdminBadInputMiddleware:
    """The Django admin answers a hostile query string with a Japanese 400 page, never a 500 (a NUL or a huge
    `pk__in` in the query string was one).

    The admin turns most bad lookups into its own `?e=1` page, but not all: a NUL in any parameter (PostgreSQL refuses
    it in text), an integer beyond the column's range in `pk__in` or a date hierarchy's year, a third-party list
    filter that calls int() on its parameter. A NUL is refused before the view; the others, raised while the view
    builds its query, become the same page (logged as a warning, so that a real defect stays visible). Placed after
    audit.middleware.AdminAccessLogMiddleware: the refusal is an access-log entry like any other admin page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if _is_admin(request) and (_has_nul(request.GET) or (request.method == "POST" and _has_nul(request.POST))):
            return bad_input(request, ADMIN_BAD_INPUT)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if _is_admin(request) and isinstance(exception, ADMIN_INPUT_ERRORS):
            logger.warning("admin: bad input refused (%s) on %s", type(exception).__name__, request.path)
            return bad_input(request, ADMIN_BAD_INPUT)
        return None
