"""Reading the inbox (received notices) for the clerks' pages: waiting notices first, filters, one notice."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, QuerySet

from .models import InboundNotice


def _base() -> QuerySet[InboundNotice]:
    return InboundNotice.objects.select_related("resident", "fuhyo_entry", "fuhyo_entry__koseki", "resolved_by")


def inbound_notices(
    *,
    state: str | None = None,
    kind: str | None = None,
    sender: str | None = None,
    resolution: str | None = None,
    received_from: dt.date | None = None,
    received_to: dt.date | None = None,
    juminhyo_code: str | None = None,
) -> QuerySet[InboundNotice]:
    """Received notices, newest first, narrowed by whichever filters are given (dates inclusive, local days)."""
    notices = _base().order_by("-received_at", "-id")
    if state:
        notices = notices.filter(state=state)
    if kind:
        notices = notices.filter(kind=kind)
    if sender:
        notices = notices.filter(sender=sender)
    if resolution:
        notices = notices.filter(resolution=resolution)
    if received_from:
        notices = notices.filter(received_at__date__gte=received_from)
    if received_to:
        notices = notices.filter(received_at__date__lte=received_to)
    if juminhyo_code:
        notices = notices.filter(juminhyo_code=juminhyo_code)
    return notices


def waiting_notices(*, kind: str | None = None, sender: str | None = None) -> QuerySet[InboundNotice]:
    """The clerks' queue: notices waiting for a decision, oldest first."""
    return inbound_notices(state=InboundNotice.State.WAITING, kind=kind, sender=sender).order_by("received_at", "id")


def waiting_counts() -> dict[str, int]:
    """Waiting notices per kind (for the menu's badge and the queue's tabs)."""
    rows = InboundNotice.objects.filter(state=InboundNotice.State.WAITING).values("kind").annotate(n=Count("id"))
    return {row["kind"]: row["n"] for row in rows}


def inbound_notice(pk: int) -> InboundNotice:
    """One received notice with what it was applied to; raises InboundNotice.DoesNotExist."""
    return _base().get(pk=pk)


def notices_for_resident(resident_id: int) -> QuerySet[InboundNotice]:
    return inbound_notices().filter(resident_id=resident_id)
