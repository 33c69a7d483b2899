"""The one gate for every view that shows personal data.

A view is declared with `@personal_data_view("registry.view_resident", subject_kind="resident")`. The gate:

1. sends an anonymous user to the login page;
2. refuses (403) a user without the model permission — and logs `denied`;
3. hands the view an `Access` object: `access.open(record)` checks the object-level rule for restricted persons
   (guardian permission backed by an active grant) and raises `RestrictedRecord` otherwise, which the gate answers
   with 404 and logs `denied`; `access.show(...)` names the persons on the page; `access.may_see(record)` lets a
   list mask restricted persons; `access.conditions` holds search conditions;
4. writes exactly one access-log entry for the request: `shown`, `denied`, `not_found` or `error`.

A test walks every URL pattern and fails for a view that shows personal data without this gate.
"""

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from .log import record_access, record_permission_event
from .models import AuditLogEntry
from .restrictions import may_open


class RestrictedRecord(Exception):
    """The record is restricted and the user holds no grant for it: answered as 404 (its existence is not told)."""

    def __init__(self, record) -> None:
        super().__init__("restricted record")
        self.record = record


@dataclass(frozen=True)
class GateInfo:
    permissions: tuple[str, ...]
    subject_kind: str


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


def personal_data_view(*permissions: str, subject_kind: str) -> Callable:
    """Declare a view that shows personal data: `view(request, access, *args, **kwargs)`."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        action = f"{view.__module__.rsplit('.', 1)[-1]}.{view.__name__}"

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

        gated.gate = GateInfo(tuple(permissions), subject_kind)  # type: ignore[attr-defined]  # read by gate_of()
        return gated

    return decorate


def gate_of(view: Callable) -> GateInfo | None:
    """The gate declaration of a resolved view function (None when the view is not gated)."""
    return getattr(view, "gate", None)
