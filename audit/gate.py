"""The one gate for every view that shows personal data.

A view is declared with the permissions it needs, the kind of record it shows, and the name it writes into the access
log with its 画面名:

    @personal_data_view("registry.view_resident", subject_kind="resident", action="search.resident_search",
                        label="住民検索")

The name is declared, never derived from the module or the function: the log is hash-chained, so a name once
written must stay the same when the code moves. The gate:

1. sends an anonymous user to the login page;
2. refuses (403) a user without the model permission — and logs `denied`;
3. hands the view an `Access` object: `access.open(record)` checks the object-level rule for restricted persons
   (guardian permission backed by an active grant) and raises `RestrictedRecord` otherwise, which the gate answers
   with 404 and logs `denied`; `access.show(...)` names the persons on the page; `access.may_see(record)` lets a
   list mask restricted persons; `access.conditions` holds search conditions;
4. writes exactly one access-log entry for the request: `shown`, `denied`, `not_found` or `error`.

A test walks every URL pattern and fails for a view that shows personal data without this gate; another fails when
two screens share an access-log name (audit/tests/test_action_names.py).
"""

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from .log import record_access, record_permission_event
from .models import AuditLogEntry
from .restrictions import may_open


class RestrictedRecord(Exception):
    """The record is restricted and the user holds no grant for it: answered as 404 (its existence is not told)."""

    def __init__(self, record) -> None:
        super().__init__("restricted record")
        self.record = record


ACTION_PATTERN = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class ActionName:
    """The name a screen writes into the access log (`search.resident_search`) and its 画面名 (住民検索)."""

    action: str
    label: str

    def __post_init__(self) -> None:
        if not ACTION_PATTERN.fullmatch(self.action):
            raise ImproperlyConfigured(f"access-log action {self.action!r}: write it as `<area>.<screen>`")
        if not self.label.strip():
            raise ImproperlyConfigured(f"access-log action {self.action!r} needs its 画面名 (label)")


@dataclass(frozen=True)
class GateInfo:
    permissions: tuple[str, ...]
    subject_kind: str
    action: str


@dataclass
class Access:
    request: HttpRequest
    action: str
    subject_kind: str
    subject_ids: list[int] = field(default_factory=list)
    conditions: dict[str, Any] = field(default_factory=dict)

    def show(self, *records: Any) -> None:
        """Name the persons (records or ids) shown on the page."""
        for record in records:
            if isinstance(record, Iterable) and not isinstance(record, str | bytes):
                self.show(*record)
            elif record is not None:
                self.subject_ids.append(record if isinstance(record, int) else record.pk)

    def may_see(self, record) -> bool:
        """For lists: whether the record may be shown unmasked to this user."""
        return may_open(self.request.user, record)

    def open(self, record):
        """For a record page: return the record if this user may open it, else raise RestrictedRecord (→ 404)."""
        if not may_open(self.request.user, record):
            raise RestrictedRecord(record)
        if record.access_restricted:
            record_permission_event(
                "use",
                actor=self.request.user,
                subject_kind=self.subject_kind,
                subject_ids=[record.pk],
                details={"view": self.action},
                request=self.request,
            )
        self.show(record)
        return record


def personal_data_view(*permissions: str, subject_kind: str, action: str, label: str) -> Callable:
    """Declare a view that shows personal data: `view(request, access, *args, **kwargs)`, logged as `action`."""
    name = ActionName(action, label)

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:

        @functools.wraps(view)
        def gated(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            access = Access(request, action, subject_kind)
            if not all(request.user.has_perm(p) for p in permissions):
                record_access(
                    request,
                    action,
                    AuditLogEntry.Outcome.DENIED,
                    subject_kind=subject_kind,
                    conditions={"missing_permission": [p for p in permissions if not request.user.has_perm(p)]},
                )
                raise PermissionDenied("この画面を開く権限がありません。")
            try:
                response = view(request, access, *args, **kwargs)
            except RestrictedRecord as restricted:
                record_access(
                    request,
                    action,
                    AuditLogEntry.Outcome.DENIED,
                    subject_kind=subject_kind,
                    subject_ids=[restricted.record.pk],
                    conditions={"restricted": True},
                )
                raise Http404("該当する記録がありません。") from None
            except Http404:
                record_access(
                    request,
                    action,
                    AuditLogEntry.Outcome.NOT_FOUND,
                    subject_kind=subject_kind,
                    conditions=access.conditions,
                )
                raise
            except Exception:
                record_access(
                    request,
                    action,
                    AuditLogEntry.Outcome.ERROR,
                    subject_kind=subject_kind,
                    subject_ids=access.subject_ids,
                    conditions=access.conditions,
                )
                raise
            record_access(
                request,
                action,
                AuditLogEntry.Outcome.SHOWN,
                subject_kind=subject_kind,
                subject_ids=access.subject_ids,
                conditions=access.conditions,
            )
            return response

        gated.gate = GateInfo(tuple(permissions), subject_kind, action)
        gated.action_name = name
        return gated

    return decorate


def gate_of(view: Callable) -> GateInfo | None:
    """The gate declaration of a resolved view function (None when the view is not gated)."""
    return getattr(view, "gate", None)


def action_name_of(view: Callable) -> ActionName | None:
    """The declared access-log name of a resolved view function: the gate's, or another logging decorator's (the
    staff-account screens'); None when the view writes no access entry of its own."""
    return getattr(view, "action_name", None)
