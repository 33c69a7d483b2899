"""管理簿 (HandoverRecord): writing an entry with its `operation` entry in the audit chain, and reading the ledger
for the supervisor's pages."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from common.context import current

from .. import chain
from ..log import client_ip, session_hash
from ..models import AuditLogEntry, HandoverRecord
from .archive import WrittenFile

OPERATION_ACTION = "export"


def record_handover(
    *,
    kind: str,
    handler,
    purpose: str,
    recipient: str,
    content: str,
    conditions: dict[str, Any],
    written: WrittenFile,
    file_name: str,
    request: HttpRequest | None = None,
    handler_name: str = "",
    extra: dict[str, Any] | None = None,
) -> HandoverRecord:
    """One 管理簿 entry and its `operation` audit entry, in one transaction (the caller's, if it has one).

    `handler` is the user (None for a batch, which then passes `handler_name`). Nothing personal goes in: the content
    and the conditions describe the selection, the digest identifies the file."""
    with transaction.atomic():
        record = HandoverRecord.objects.create(
            kind=kind,
            handler=handler,
            handler_name=(handler.get_username() if handler is not None else handler_name)[:150],
            purpose=purpose[:300],
            recipient=recipient[:200],
            content=content[:500],
            row_count=written.row_count,
            file_name=file_name,
            file_size=written.size,
            file_digest=written.digest,
            conditions=conditions,
        )
        ctx = current()
        chain.append(
            category=AuditLogEntry.Category.OPERATION,
            action=OPERATION_ACTION,
            outcome=AuditLogEntry.Outcome.DONE,
            user=handler,
            username=record.handler_name,
            remote_addr=client_ip(request),
            session_hash=session_hash(request),
            request_id=getattr(request, "request_id", "") or (ctx.request_id if ctx else ""),
            method=getattr(request, "method", "") or "",
            path=(getattr(request, "path", "") or "")[:500],
            subject_kind="handover",
            subject_ids=[record.pk],
            conditions={
                "handover_id": record.pk,
                "kind": kind,
                "row_count": written.row_count,
                "file_size": written.size,
                "file_digest": written.digest,
                **(extra or {}),
            },
        )
    return record


# --- Reading ---------------------------------------------------------------------------------------------------

PAGE_SIZE = 50
PRINT_LIMIT = 1_000  # entries on one printed ledger; a longer period is printed in parts


@dataclass(frozen=True)
class LedgerFilter:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    kind: str = ""
    handler: str = ""  # 職員ID or batch name, exact

    def is_empty(self) -> bool:
        return not (self.date_from or self.date_to or self.kind or self.handler)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def ledger(flt: LedgerFilter) -> QuerySet[HandoverRecord]:
    """The entries the filter selects, newest first."""
    qs = HandoverRecord.objects.select_related("handler")
    if flt.date_from:
        qs = qs.filter(created_at__gte=_day_start(flt.date_from))
    if flt.date_to:
        qs = qs.filter(created_at__lt=_day_start(flt.date_to + dt.timedelta(days=1)))
    if flt.kind:
        qs = qs.filter(kind=flt.kind)
    if flt.handler:
        qs = qs.filter(handler_name=flt.handler)
    return qs.order_by("-created_at", "-pk")
