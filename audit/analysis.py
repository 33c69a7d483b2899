"""The periodic analysis of the logs (`manage.py analyze_access_logs`): finders that turn one day of the audit chain
and the outbox into findings, and `store` that keeps each finding as one `AnalysisFlag` (one per day, kind, 職員ID
and key: re-running a day changes counts at most, never duplicates, and keeps a supervisor's review).

What is flagged (docs/audit-review.md):
- mass_lookup: a clerk named more persons on shown pages within a sliding hour than the hourly threshold, or more
  distinct persons in the day than the daily one;
- after_hours: accesses outside office hours on a working day; holiday: any access on a closed day (土日・祝日・
  12/29–1/3);
- repeated_denial: a clerk refused at least AUDIT_REPEATED_DENIALS times;
- grant_use: each record of a restricted person (支援措置 etc.) a clerk opened under a 個別許可;
- masked_hit: each restricted person a clerk's search found and showed masked (「閲覧制限のある方」): who looked for
  whom, although they saw nothing;
- failed_login: at least AUDIT_FAILED_LOGINS failed logins for one typed 職員ID, or a lockout;
- notice_overdue / notice_failed: per receiver, notices unacknowledged TRANSFERS_OVERDUE_AFTER after they were
  written, or failed (state failed, or a `failed` transmission entry that day), as of the end of the day.

Details hold ids, counts, codes and times only — never names or addresses.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from transfers.models import OutboundNotice

from . import selectors
from .models import AnalysisFlag, AuditLogEntry
from .office_hours import closed_reason, day_bounds, office_hours

Kind = AnalysisFlag.Kind
MAX_IDS_IN_DETAILS = 100
UNACKNOWLEDGED = (OutboundNotice.State.PENDING, OutboundNotice.State.SENDING, OutboundNotice.State.SENT)


@dataclass(frozen=True)
class Thresholds:
    per_hour: int
    per_day: int
    denials: int
    failed_logins: int

    @classmethod
    def from_settings(cls, *, per_hour: int | None = None) -> Thresholds:
        return cls(
            per_hour=per_hour or settings.AUDIT_MASS_LOOKUP_PER_HOUR,
            per_day=settings.AUDIT_MASS_LOOKUP_PER_DAY,
            denials=settings.AUDIT_REPEATED_DENIALS,
            failed_logins=settings.AUDIT_FAILED_LOGINS,
        )


@dataclass(frozen=True)
class Finding:
    kind: str
    username: str = ""
    key: str = ""
    count: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """One line for the dry run (ids and counts only)."""
        who = self.username or "-"
        key = f" {self.key}" if self.key else ""
        return f"{Kind(self.kind).label}\t{who}{key}\t{self.count}件"


def _hhmm(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%H:%M") if moment else ""


# --- Finders -----------------------------------------------------------------------------------------------------


def access_findings(clerks: Iterable[selectors.ClerkDay], day: dt.date, limits: Thresholds) -> list[Finding]:
    """mass_lookup, after_hours, holiday and repeated_denial from the day's scan per clerk."""
    found: list[Finding] = []
    opening, closing = office_hours()
    reason = closed_reason(day)
    for c in clerks:
        if c.peak_per_hour > limits.per_hour or c.distinct_persons > limits.per_day:
            found.append(
                Finding(
                    Kind.MASS_LOOKUP,
                    c.username,
                    count=max(c.peak_per_hour, c.distinct_persons),
                    details={
                        "peak_per_hour": c.peak_per_hour,
                        "peak_hour_from": _hhmm(c.peak_hour_start),
                        "episodes": c.mass_view_episodes,
                        "distinct_persons": c.distinct_persons,
                        "person_views": c.person_views,
                        "threshold_per_hour": limits.per_hour,
                        "threshold_per_day": limits.per_day,
                    },
                )
            )
        if c.after_hours:
            first, last = (c.after_hours_times + [None, None])[:2]
            found.append(
                Finding(
                    Kind.AFTER_HOURS,
                    c.username,
                    count=c.after_hours,
                    details={
                        "first": _hhmm(first),
                        "last": _hhmm(last),
                        "office_hours": f"{opening:%H:%M}-{closing:%H:%M}",
                    },
                )
            )
        if c.closed_day:
            found.append(Finding(Kind.HOLIDAY, c.username, count=c.closed_day, details={"closed": reason}))
        if c.denied >= limits.denials:
            found.append(
                Finding(Kind.REPEATED_DENIAL, c.username, count=c.denied, details={"threshold": limits.denials})
            )
    return found


def grant_use_findings(start: dt.datetime, end: dt.datetime) -> list[Finding]:
    """One finding per clerk and record opened under a 個別許可 (key "<subject kind>:<record id>")."""
    uses: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for entry in selectors.grant_uses(start, end).only("username", "subject_kind", "subject_ids", "conditions"):
        for record_id in entry.subject_ids or []:
            view = str((entry.conditions or {}).get("view", ""))
            uses[(entry.username, f"{entry.subject_kind}:{int(record_id)}")][view] += 1
    return [
        Finding(Kind.GRANT_USE, username, key, count=sum(views.values()), details={"views": dict(views)})
        for (username, key), views in sorted(uses.items())
    ]


def masked_hit_findings(start: dt.datetime, end: dt.datetime) -> list[Finding]:
    """One finding per clerk and restricted person a search showed masked (key "<subject kind>:<record id>")."""
    hits: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    entries = AuditLogEntry.objects.filter(
        occurred_at__gte=start,
        occurred_at__lt=end,
        category=AuditLogEntry.Category.ACCESS,
        conditions__has_key="masked_hits",
    ).only("username", "action", "subject_kind", "conditions")
    for entry in entries:
        for record_id in (entry.conditions or {}).get("masked_hits", []):
            hits[(entry.username, f"{entry.subject_kind}:{int(record_id)}")][entry.action] += 1
    return [
        Finding(Kind.MASKED_HIT, username, key, count=sum(views.values()), details={"views": dict(views)})
        for (username, key), views in sorted(hits.items())
    ]


def failed_login_findings(start: dt.datetime, end: dt.datetime, limits: Thresholds) -> list[Finding]:
    return [
        Finding(Kind.FAILED_LOGIN, username, count=counts["failed"], details=dict(counts))
        for username, counts in sorted(selectors.failed_logins(start, end).items())
        if counts["failed"] >= limits.failed_logins or counts["locked_out"]
    ]


def notice_findings(day: dt.date, now: dt.datetime | None = None) -> list[Finding]:
    """Per receiver, as of the end of `day` (or now, for today): notices unacknowledged longer than
    TRANSFERS_OVERDUE_AFTER, and notices failed (still failed, or reported failed in that day's transmission log)."""
    start, end = day_bounds(day)
    as_of = min(end, now or timezone.now())
    cutoff = as_of - dt.timedelta(seconds=settings.TRANSFERS_OVERDUE_AFTER)
    unacknowledged_then = Q(state__in=UNACKNOWLEDGED) | Q(
        state=OutboundNotice.State.ACKNOWLEDGED, acknowledged_at__gt=as_of
    )
    overdue = OutboundNotice.objects.filter(unacknowledged_then, created_at__lte=cutoff)
    failed_ids = [
        str(message_id)
        for message_id in AuditLogEntry.objects.filter(
            occurred_at__gte=start,
            occurred_at__lt=end,
            category=AuditLogEntry.Category.TRANSMISSION,
            action="failed",
        ).values_list("conditions__message_id", flat=True)
        if message_id
    ]
    failed = OutboundNotice.objects.filter(
        Q(state=OutboundNotice.State.FAILED, created_at__lt=as_of) | Q(message_id__in=failed_ids)
    )
    found = []
    for kind, qs in ((Kind.NOTICE_OVERDUE, overdue), (Kind.NOTICE_FAILED, failed)):
        by_receiver: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for pk, receiver, notice_kind in qs.order_by("pk").values_list("pk", "receiver", "kind"):
            by_receiver[receiver].append((pk, notice_kind))
        for receiver, notices in sorted(by_receiver.items()):
            found.append(
                Finding(
                    kind,
                    key=f"receiver:{receiver}",
                    count=len(notices),
                    details={
                        "receiver": receiver,
                        "notice_ids": [pk for pk, _ in notices[:MAX_IDS_IN_DETAILS]],
                        "kinds": dict(Counter(k for _, k in notices)),
                        "as_of": timezone.localtime(as_of).isoformat(timespec="minutes"),
                    },
                )
            )
    return found


def find(day: dt.date, limits: Thresholds, *, now: dt.datetime | None = None) -> list[Finding]:
    """Every finding for one day."""
    start, end = day_bounds(day)
    clerks = selectors.clerk_days(start, end, threshold=limits.per_hour)
    return [
        *access_findings(clerks, day, limits),
        *grant_use_findings(start, end),
        *masked_hit_findings(start, end),
        *failed_login_findings(start, end, limits),
        *notice_findings(day, now),
    ]


# --- Storing -----------------------------------------------------------------------------------------------------


@dataclass
class Stored:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def store(day: dt.date, findings: Iterable[Finding]) -> Stored:
    """Keep each finding as one flag. A flag found again keeps its review; its count and details follow the data
    (a re-run after late entries arrived)."""
    result = Stored()
    with transaction.atomic():
        for f in findings:
            flag, created = AnalysisFlag.objects.get_or_create(
                analysed_on=day,
                kind=f.kind,
                username=f.username[:150],
                key=f.key[:100],
                defaults={"count": f.count, "details": f.details},
            )
            if created:
                result.created += 1
            elif (flag.count, flag.details) != (f.count, f.details):
                flag.count, flag.details = f.count, f.details
                flag.save(update_fields=["count", "details"])
                result.updated += 1
            else:
                result.unchanged += 1
    return result


def summary_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per kind, every kind listed (0 included), in the order of AnalysisFlag.Kind."""
    counts = Counter(f.kind for f in findings)
    return {kind: counts.get(kind, 0) for kind in Kind.values}
