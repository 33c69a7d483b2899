"""The reads of the notice screens and of the 住民票 page's list of notices. The outbox and the inbox grow without
bound, so both lists are read with keyset pagination (never OFFSET, never COUNT(*) of the whole table), like the
access log: size + 1 rows tell whether another page follows. The only counts are of the rows that need attention
(overdue, waiting), which stay few."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from audit.models import AuditLogEntry

from .models import InboundNotice, OutboundNotice
from .views.display import UNACKNOWLEDGED, overdue_after, overdue_q

PAGE_SIZE = 50
ATTENTION_CAP = 1000  # counts of overdue / waiting rows stop here (「1000件以上」)


@dataclass
class Page:
    rows: list
    next_key: str | None  # the `after` value of the next page, None on the last page
    items: list[dict] = field(default_factory=list)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _period(qs: QuerySet, field_name: str, date_from: dt.date | None, date_to: dt.date | None) -> QuerySet:
    if date_from:
        qs = qs.filter(**{f"{field_name}__gte": _day_start(date_from)})
    if date_to:
        qs = qs.filter(**{f"{field_name}__lt": _day_start(date_to + dt.timedelta(days=1))})
    return qs


def capped_count(qs: QuerySet) -> int:
    return qs[: ATTENTION_CAP + 1].count()


# --- The outbox ----------------------------------------------------------------------------------------------------


@dataclass
class OutboxFilter:
    state: str = ""
    kind: str = ""
    receiver: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    overdue_only: bool = False


def outbox(flt: OutboxFilter, now: dt.datetime | None = None) -> QuerySet[OutboundNotice]:
    qs = OutboundNotice.objects.all()
    if flt.state:
        qs = qs.filter(state=flt.state)
    if flt.kind:
        qs = qs.filter(kind=flt.kind)
    if flt.receiver:
        qs = qs.filter(receiver=flt.receiver)
    if flt.overdue_only:
        qs = qs.filter(overdue_q(now))
    return _period(qs, "created_at", flt.date_from, flt.date_to)


def outbox_page(flt: OutboxFilter, *, after: str = "", size: int = PAGE_SIZE, now=None) -> Page:
    """Newest first; `after` is the id of the last row of the previous page. Only the columns of the list are read
    (the payload, which holds personal data, stays in the database)."""
    qs = outbox(flt, now).defer("payload")
    if after.isdigit():
        qs = qs.filter(pk__lt=int(after))
    rows = list(qs.order_by("-pk")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, str(rows[-1].pk) if more and rows else None)


def overdue_count(now: dt.datetime | None = None) -> int:
    return capped_count(OutboundNotice.objects.filter(overdue_q(now)))


@dataclass(frozen=True)
class AttentionCount:
    key: str  # also the CSS class of its number
    label: str
    count: int
    state: str = ""  # the list's state filter that shows these rows, when one does


def attention_counts(now: dt.datetime | None = None) -> list[AttentionCount]:
    """The outbox banner's numbers, each on its own: given up (送信失敗), set aside for want of a connection
    (送信先未接続), waiting for their next attempt after a failed one (再送待ち), and unacknowledged past
    TRANSFERS_OVERDUE_AFTER (遅延). Each count stops at ATTENTION_CAP."""
    state = OutboundNotice.State
    cutoff = (now or timezone.now()) - overdue_after()
    counts = [
        ("failed", state.FAILED.label, Q(state=state.FAILED), state.FAILED),
        ("unconnected", state.UNCONNECTED.label, Q(state=state.UNCONNECTED), state.UNCONNECTED),
        ("retrying", "再送待ち", Q(state=state.PENDING, attempts__gt=0), ""),
        ("overdue", "遅延（受領確認なし）", Q(state__in=UNACKNOWLEDGED, created_at__lte=cutoff), ""),
    ]
    return [
        AttentionCount(key, label, capped_count(OutboundNotice.objects.filter(q)), filter_state)
        for key, label, q, filter_state in counts
    ]


def transmission_history(message_id) -> QuerySet[AuditLogEntry]:
    """The notice's transmission entries in the audit chain (sent, retried, acknowledged, failed, resent …)."""
    return AuditLogEntry.objects.filter(
        category=AuditLogEntry.Category.TRANSMISSION, conditions__message_id=str(message_id)
    ).order_by("pk")


# --- The inbox -----------------------------------------------------------------------------------------------------


@dataclass
class InboxFilter:
    state: str = ""
    kind: str = ""
    sender: str = ""
    authority_refused: bool = False
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _waiting_rank() -> Case:
    return Case(When(state=InboundNotice.State.WAITING, then=Value(0)), default=Value(1), output_field=IntegerField())


def inbox(flt: InboxFilter) -> QuerySet[InboundNotice]:
    qs = InboundNotice.objects.all()
    if flt.state:
        qs = qs.filter(state=flt.state)
    if flt.kind:
        qs = qs.filter(kind=flt.kind)
    if flt.sender:
        qs = qs.filter(sender=flt.sender)
    if flt.authority_refused:
        qs = qs.exclude(authority_refusal="")
    return _period(qs, "received_at", flt.date_from, flt.date_to)


def inbox_page(flt: InboxFilter, *, after: str = "", size: int = PAGE_SIZE) -> Page:
    """Waiting notices first, then the others; newest first within each. `after` is "<rank>-<id>" of the last row
    of the previous page."""
    qs = inbox(flt).defer("payload", "differences").annotate(rank=_waiting_rank())
    rank, _, last = after.partition("-")
    if rank.isdigit() and last.isdigit():
        qs = qs.filter(Q(rank__gt=int(rank)) | Q(rank=int(rank), pk__lt=int(last)))
    rows = list(qs.order_by("rank", "-pk")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, f"{rows[-1].rank}-{rows[-1].pk}" if more and rows else None)


def waiting_count() -> int:
    return capped_count(InboundNotice.objects.filter(state=InboundNotice.State.WAITING))


# --- One person's notices -------------------------------------------------------------------------------------------


def notices_about_resident(resident_id: int, limit: int = 50) -> QuerySet[OutboundNotice]:
    """The notices raised by changes to one 住民票, newest first (what the 住民票 page lists)."""
    return OutboundNotice.objects.filter(event__resident_id=resident_id).order_by("-id")[:limit]
