"""Enters the audit context for each web request (actor, request id, client address)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .context import audit_context


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
