"""The Django admin is read-only for operators, but it shows personal data: every admin page of a personal-data model
writes one access-log entry, as the gate does for the clerk's screens.

Personal-data models are every model of `registry`, `koseki_fuhyo` and `audit`, and `common.ChangeEvent` (its payload
holds names and addresses). Logged admin views: the changelist (the ids on the page in subject_ids), the change view
(the object id), the history and the delete view. The outcome follows the response: 2xx shown, 400 (input refused)
or 403 denied, 404 or the admin's redirect for a missing object not found, a redirect to the admin login denied, 5xx
error.

Install after the authentication middleware (it needs `request.user`):
    "audit.middleware.AdminAccessLogMiddleware",
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .log import record_access
from .models import AuditLogEntry

PERSONAL_DATA_APPS = frozenset({"registry", "koseki_fuhyo", "audit", "transfers"})
PERSONAL_DATA_MODELS = frozenset({("common", "changeevent")})
LOGGED_VIEWS = frozenset({"changelist", "change", "history", "delete"})
ADMIN_NAMESPACE = "admin"
MAX_IDS = 500  # a changelist page shows 100 rows by default; more would only bloat the entry


def _admin_target(request: HttpRequest) -> tuple[str, str, str] | None:
    """(app_label, model_name, view) for an admin page of a personal-data model, else None."""
    match = getattr(request, "resolver_match", None)
    if match is None or ADMIN_NAMESPACE not in match.namespaces or not match.url_name:
        return None
    for view in LOGGED_VIEWS:
        suffix = f"_{view}"
        if not match.url_name.endswith(suffix):
            continue
        prefix = match.url_name[: -len(suffix)]
        app_label, _, model_name = prefix.partition("_")
        # App labels may hold underscores (koseki_fuhyo): find the split that names a personal-data model.
        for app in PERSONAL_DATA_APPS | {a for a, _ in PERSONAL_DATA_MODELS}:
            if prefix.startswith(f"{app}_"):
                app_label, model_name = app, prefix[len(app) + 1 :]
                break
        if app_label in PERSONAL_DATA_APPS or (app_label, model_name) in PERSONAL_DATA_MODELS:
            return app_label, model_name, view
        return None
    return None


def _outcome(request: HttpRequest, response: HttpResponse) -> str:
    status = response.status_code
    if 200 <= status < 300:
        return AuditLogEntry.Outcome.SHOWN
    if status in (400, 403):  # 400: input the admin refused (common.middleware.AdminBadInputMiddleware)
        return AuditLogEntry.Outcome.DENIED
    if status == 404:
        return AuditLogEntry.Outcome.NOT_FOUND
    if 300 <= status < 400:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_staff:
            return AuditLogEntry.Outcome.DENIED  # sent to the admin login
        return AuditLogEntry.Outcome.NOT_FOUND  # the admin redirects to its index for a missing object
    return AuditLogEntry.Outcome.ERROR


def _page_ids(response: HttpResponse) -> list[int]:
    context = getattr(response, "context_data", None) or {}
    changelist = context.get("cl")
    result_list = getattr(changelist, "result_list", None)
    if result_list is None:
        return []
    return [obj.pk for obj in list(result_list)[:MAX_IDS] if isinstance(obj.pk, int)]


class AdminAccessLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        target = _admin_target(request)
        if target is None:
            return response
        app_label, model_name, view = target
        subject_ids: list[int] = []
        conditions: dict = {}
        if view == "changelist":
            subject_ids = _page_ids(response)
            conditions = dict(request.GET.items())
        else:
            object_id = request.resolver_match.kwargs.get("object_id", "") if request.resolver_match else ""
            if str(object_id).isdigit():
                subject_ids = [int(object_id)]
        record_access(
            request,
            f"admin.{app_label}.{model_name}.{view}",
            _outcome(request, response),
            subject_kind=f"admin:{app_label}.{model_name}",
            subject_ids=subject_ids,
            conditions=conditions,
        )
        return response
