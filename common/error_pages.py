"""The 400, 403 and 404 pages (config/urls.py handler400/403/404): Japanese, in the site's layout, with the request
id to quote when asking the operator — and nothing from the exception. A restricted record and one that does not
exist must answer the same page (docs: threat model, invariant 1), and the messages that views attach to Http404 or
PermissionDenied differ by path (Django's default names the model in English), so none of them is shown.

500 and 503 stay plain pages rendered without the request (templates/500.html, common/db_outage.py): when those are
shown, the database may be what failed.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

NOT_FOUND_TEMPLATE = "404.html"
DENIED_TEMPLATE = "403.html"
BAD_REQUEST_TEMPLATE = "400.html"


def _page(request: HttpRequest, template: str, status: int, reason: str = "") -> HttpResponse:
    context = {"request_id": getattr(request, "request_id", ""), "reason": reason}
    return render(request, template, context, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, BAD_REQUEST_TEMPLATE, 400)


def bad_input(request: HttpRequest, reason: str) -> HttpResponse:
    """A 400 that says which input was refused; `reason` is the code's own Japanese sentence, never the input."""
    return _page(request, BAD_REQUEST_TEMPLATE, 400, reason)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, DENIED_TEMPLATE, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, NOT_FOUND_TEMPLATE, 404)
