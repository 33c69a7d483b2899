"""Every read the supervisor's screens and the periodic analysis make of the audit log, the restrictions and the
grants. Views stay thin: they call these, then render.

The access log grows by one row per request to a personal-data view (millions a year), so the list is read with
keyset pagination on the primary key (`before=<id>`), never with OFFSET and never with COUNT(*).
"""

import datetime as dt
import re
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet, TextField
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from koseki_fuhyo.models import FuhyoEntry
from registry.models import Resident
from transfers.models import OutboundNotice

from . import office_hours
from .models import AccessGrant, AccessRestriction, AuditLogEntry

LOG_PAGE_SIZE = 50  # one screen of rows; the next page is fetched by id, so its cost does not grow with depth
RESTRICTION_PAGE_LIMIT = 500  # restrictions and grants are exceptions: a few hundred at most in a ward

# Subject ids of an access entry are record ids; which table they point to depends on the view's subject kind.
# Views of the 戸籍・附票 side name 附票 rows (FuhyoEntry ids); every other view names 住民票 ids. Admin pages name
# the object of their model ("admin:<app>.<model>"), of which only the two person models count here.
FUHYO_KIND_RE = r"(koseki|fuhyo)"
ADMIN_KIND_PREFIX = "admin:"
ADMIN_RESIDENT_KIND = "admin:registry.resident"
ADMIN_FUHYO_KIND = "admin:koseki_fuhyo.fuhyoentry"
# Entries whose subject ids are persons' records: accesses and permission events. Subject kinds that name other
# things (users, 管理簿 rows, flags) never match a person.
PERSON_CATEGORIES = (AuditLogEntry.Category.ACCESS, AuditLogEntry.Category.PERMISSION)
NON_PERSON_KINDS = ("user", "handover", "analysis_flag", "batch_run")


# --- Outside office hours ------------------------------------------------------------------------------------------


def off_hours_q(first: dt.date, last: dt.date) -> Q:
    """Entries on a closed day or outside office hours (audit.office_hours), as a database filter evaluated in the
    ward's time zone, for entries of the days [first, last]: outside office hours by the clock, on a Saturday or
    Sunday, or on a closed weekday (a national holiday, 12/29–1/3)."""
    q = after_hours_q() | Q(occurred_at__iso_week_day__gte=6)
    closed = office_hours.closed_weekdays(first, last)
    return q | Q(occurred_at__date__in=closed) if closed else q


def _logged_days() -> tuple[dt.date, dt.date]:
    """The first and the last day (ward time) that the log holds entries of."""
    span = AuditLogEntry.objects.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    if span["first"] is None:
        today = timezone.localdate()
        return today, today
    return timezone.localdate(span["first"]), timezone.localdate(span["last"])


# --- Persons ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRecords:
    """One person as the registers know them: every 住民票 (現存 and 除票) and every 附票 row sharing the
    住民票コード; or, when asked by id, that one 住民票."""

    residents: tuple[Resident, ...] = ()
    fuhyo_entries: tuple[FuhyoEntry, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.residents or self.fuhyo_entries)

    @property
    def main(self) -> Resident | FuhyoEntry | None:
        """The record to name the person by: the current 住民票, else the newest 除票, else a 附票 row."""
        current = [r for r in self.residents if r.status == "current"]
        if current:
            return current[0]
        if self.residents:
            return max(self.residents, key=lambda r: r.pk)
        return self.fuhyo_entries[0] if self.fuhyo_entries else None

    @property
    def juminhyo_code(self) -> str:
        main = self.main
        return main.juminhyo_code if main is not None else ""

    def records(self) -> list[Resident | FuhyoEntry]:
        return [*self.residents, *self.fuhyo_entries]


def find_person(*, resident_id: int | None = None, juminhyo_code: str = "") -> PersonRecords:
    """By 住民票 id: that 住民票 and the others sharing its code. By 住民票コード: every record with the code."""
    if resident_id is not None:
        resident = Resident.objects.filter(pk=resident_id).first()
        if resident is None:
            return PersonRecords()
        juminhyo_code = resident.juminhyo_code
        if not juminhyo_code:
            return PersonRecords(residents=(resident,))
    if not juminhyo_code:
        return PersonRecords()
    residents = tuple(Resident.objects.filter(juminhyo_code=juminhyo_code).order_by("pk"))
    entries = tuple(FuhyoEntry.objects.filter(juminhyo_code=juminhyo_code).order_by("pk"))
    return PersonRecords(residents, entries)


# --- The access log --------------------------------------------------------------------------------------------


@dataclass
class LogFilter:
    username: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    outcome: str = ""
    category: str = ""
    action: str = ""
    person: PersonRecords | None = None
    off_hours_only: bool = False


@dataclass
class LogPage:
    entries: list[AuditLogEntry]
    next_before: int | None  # id for the next (older) page, None on the last page
    rows: list[dict] = field(default_factory=list)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _contains_id(ids: Iterable[int]) -> Q:
    """Entries whose subject_ids hold any of `ids`. PostgreSQL: JSONB containment (`@>`), which a GIN index on
    subject_ids can answer. Other databases (SQLite in development) have no JSON containment: match the id in the
    stored JSON text instead ("[1, 2, 3]"), which needs the `subject_ids_text` annotation from `with_text()`."""
    q = Q(pk__in=[])
    for pk in ids:
        if connection.vendor == "postgresql":
            q |= Q(subject_ids__contains=[pk])
        else:
            q |= Q(subject_ids_text__regex=rf"(^\[|[ ,]){int(pk)}(\]|,)")
    return q


def with_text(qs: QuerySet) -> QuerySet:
    if connection.vendor == "postgresql":
        return qs
    return qs.annotate(subject_ids_text=Cast("subject_ids", TextField()))


def person_q(person: PersonRecords) -> Q:
    """Who looked at or changed this person: entries naming one of the person's records in their subject ids,
    each id matched only against entries whose subject kind points to that table."""
    fuhyo_kinds = (Q(subject_kind__regex=FUHYO_KIND_RE) & ~Q(subject_kind__startswith=ADMIN_KIND_PREFIX)) | Q(
        subject_kind=ADMIN_FUHYO_KIND
    )
    resident_kinds = ~Q(subject_kind__regex=FUHYO_KIND_RE) & ~Q(subject_kind__startswith=ADMIN_KIND_PREFIX) | Q(
        subject_kind=ADMIN_RESIDENT_KIND
    )
    q = Q(pk__in=[])
    if person.residents:
        q |= _contains_id(r.pk for r in person.residents) & resident_kinds
    if person.fuhyo_entries:
        q |= _contains_id(e.pk for e in person.fuhyo_entries) & fuhyo_kinds
    # Account and operation entries name users and 管理簿 rows in their subject ids, not persons.
    return q & Q(category__in=PERSON_CATEGORIES) & ~Q(subject_kind__in=NON_PERSON_KINDS)


def filtered_log(flt: LogFilter) -> QuerySet:
    qs = AuditLogEntry.objects.all()
    if flt.username:
        qs = qs.filter(username=flt.username)
    if flt.date_from:
        qs = qs.filter(occurred_at__gte=_day_start(flt.date_from))
    if flt.date_to:
        qs = qs.filter(occurred_at__lt=_day_start(flt.date_to + dt.timedelta(days=1)))
    if flt.outcome:
        qs = qs.filter(outcome=flt.outcome)
    if flt.category:
        qs = qs.filter(category=flt.category)
    if flt.action:
        qs = qs.filter(action=flt.action)
    if flt.off_hours_only:
        first, last = _logged_days()
        qs = qs.filter(off_hours_q(flt.date_from or first, flt.date_to or last))
    if flt.person is not None:
        qs = with_text(qs).filter(person_q(flt.person))
    return qs


def log_page(flt: LogFilter, *, before: int | None = None, size: int = LOG_PAGE_SIZE) -> LogPage:
    """One page of the log, newest first, strictly older than `before` (an id). Reads size + 1 rows to know whether
    another page follows; never counts."""
    qs = filtered_log(flt)
    if before is not None:
        qs = qs.filter(pk__lt=before)
    rows = list(qs.order_by("-pk")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return LogPage(entries=rows, next_before=rows[-1].pk if more and rows else None)


def is_denied(entry: AuditLogEntry) -> bool:
    return entry.outcome == AuditLogEntry.Outcome.DENIED


# --- Restrictions and grants -------------------------------------------------------------------------------------


def restrictions(*, include_lifted: bool = False) -> QuerySet:
    qs = AccessRestriction.objects.select_related("resident", "fuhyo_entry", "created_by", "lifted_by")
    if not include_lifted:
        qs = qs.filter(lifted_at__isnull=True)
    return qs.order_by("-created_at", "-pk")


class GrantState:
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    LABELS = {ACTIVE: "有効", EXPIRED: "期限切れ", REVOKED: "取消済み"}


def grant_state(access_grant: AccessGrant, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    if access_grant.revoked_at is not None:
        # revoke_expired() marks expiry as a revocation with reason 「有効期限切れ」; show it as what it was.
        if access_grant.revoked_by_id is None and access_grant.revoked_at >= access_grant.expires_at:
            return GrantState.EXPIRED
        return GrantState.REVOKED
    if access_grant.expires_at <= now:
        return GrantState.EXPIRED
    return GrantState.ACTIVE


def grants(*, state: str = "", juminhyo_code: str = "", resident_ids: Iterable[int] = ()) -> QuerySet:
    qs = AccessGrant.objects.select_related("user", "resident", "fuhyo_entry", "granted_by", "revoked_by")
    now = timezone.now()
    if state == GrantState.ACTIVE:
        qs = qs.filter(revoked_at__isnull=True, expires_at__gt=now)
    elif state == GrantState.EXPIRED:
        qs = qs.filter(
            Q(revoked_at__isnull=True, expires_at__lte=now) | Q(revoked_by__isnull=True, revoked_at__isnull=False)
        )
    elif state == GrantState.REVOKED:
        qs = qs.filter(revoked_at__isnull=False, revoked_by__isnull=False)
    if juminhyo_code:
        qs = qs.filter(Q(resident__juminhyo_code=juminhyo_code) | Q(fuhyo_entry__juminhyo_code=juminhyo_code))
    resident_ids = list(resident_ids)
    if resident_ids:
        qs = qs.filter(resident_id__in=resident_ids)
    return qs.order_by("-granted_at", "-pk")


# --- Periodic analysis ---------------------------------------------------------------------------------------------

MASS_VIEW_WINDOW = dt.timedelta(hours=1)
MASS_VIEW_THRESHOLD = 200  # persons named on pages within one hour; a day at the counter stays well below
ITERATOR_CHUNK = 5_000  # rows fetched per round trip while scanning a period
LOGIN_FAILED_ACTIONS = ("login_failed",)


@dataclass
class ClerkDay:
    """One clerk's access entries over a period (normally one day), as the analysis counts them."""

    username: str
    accesses: int = 0
    after_hours: int = 0  # outside office hours on a working day
    closed_day: int = 0  # on a Saturday, Sunday, national holiday or 12/29–1/3
    denied: int = 0
    person_views: int = 0  # persons named on shown pages (a person named twice counts twice)
    distinct_persons: int = 0
    peak_per_hour: int = 0  # most persons named within any sliding hour
    peak_hour_start: dt.datetime | None = None
    mass_view_episodes: int = 0  # times the sliding hour went over the threshold
    after_hours_times: list[dt.datetime] = field(default_factory=list)  # first and last, for the flag's details


def clerk_days(start: dt.datetime, end: dt.datetime, *, threshold: int = MASS_VIEW_THRESHOLD) -> list[ClerkDay]:
    """Per clerk (職員ID), for [start, end): accesses, those outside office hours or on closed days, denied ones, and
    persons named (in total, distinct, and the peak of any sliding hour with the times it went over `threshold`).
    One scan of the period's access entries in id (= time) order over the (category, occurred_at) index; failed
    logins are not accesses (see `failed_logins`)."""
    by_user: dict[str, ClerkDay] = {}
    persons: dict[str, set[tuple[bool, int]]] = defaultdict(set)
    windows: dict[str, deque[tuple[dt.datetime, int]]] = defaultdict(deque)
    window_sums: dict[str, int] = defaultdict(int)
    closed: dict[dt.date, bool] = {}
    fuhyo_kinds: dict[str, bool] = {}
    ward_tz = timezone.get_current_timezone()
    rows = (
        AuditLogEntry.objects.filter(
            occurred_at__gte=start, occurred_at__lt=end, category=AuditLogEntry.Category.ACCESS
        )
        .exclude(action__in=LOGIN_FAILED_ACTIONS)
        .exclude(username="")
        .order_by("pk")
        .values_list("username", "occurred_at", "outcome", "subject_kind", "subject_ids")
        .iterator(chunk_size=ITERATOR_CHUNK)
    )
    for username, occurred_at, outcome, subject_kind, subject_ids in rows:
        stats = by_user.get(username) or by_user.setdefault(username, ClerkDay(username))
        stats.accesses += 1
        local = occurred_at.astimezone(ward_tz)
        day = local.date()
        if day not in closed:
            closed[day] = office_hours.is_closed_day(day)
        if closed[day]:
            stats.closed_day += 1
        elif office_hours.outside_office_clock(local.time()):
            stats.after_hours += 1
            times = stats.after_hours_times
            stats.after_hours_times = [times[0] if times else occurred_at, occurred_at]
        if outcome == AuditLogEntry.Outcome.DENIED:
            stats.denied += 1
        if outcome != AuditLogEntry.Outcome.SHOWN or not subject_ids:
            continue
        shown = len(subject_ids)
        stats.person_views += shown
        fuhyo = fuhyo_kinds.get(subject_kind)
        if fuhyo is None:
            fuhyo = fuhyo_kinds[subject_kind] = bool(re.search(FUHYO_KIND_RE, subject_kind or ""))
        persons[username].update((fuhyo, int(pk)) for pk in subject_ids)
        window = windows[username]
        while window and window[0][0] <= occurred_at - MASS_VIEW_WINDOW:
            window_sums[username] -= window.popleft()[1]
        before = window_sums[username]
        window.append((occurred_at, shown))
        window_sums[username] += shown
        if window_sums[username] > stats.peak_per_hour:
            stats.peak_per_hour = window_sums[username]
            stats.peak_hour_start = window[0][0]
        if before <= threshold < window_sums[username]:
            stats.mass_view_episodes += 1
    for username, seen in persons.items():
        by_user[username].distinct_persons = len(seen)
    return sorted(by_user.values(), key=lambda s: s.username)


def failed_logins(start: dt.datetime, end: dt.datetime) -> dict[str, dict[str, int]]:
    """Per typed 職員ID: failed logins and lockouts in [start, end). Read from both places they are written: the
    `account` category (accounts app) and the older `access` entries of audit/signals.py."""
    rows = (
        AuditLogEntry.objects.filter(
            occurred_at__gte=start,
            occurred_at__lt=end,
            category__in=(AuditLogEntry.Category.ACCESS, AuditLogEntry.Category.ACCOUNT),
            action__in=(*LOGIN_FAILED_ACTIONS, "locked_out"),
        )
        .values_list("username", "action")
        .iterator(chunk_size=ITERATOR_CHUNK)
    )
    found: dict[str, dict[str, int]] = defaultdict(lambda: {"failed": 0, "locked_out": 0})
    for username, action in rows:
        found[username or "（空欄）"]["locked_out" if action == "locked_out" else "failed"] += 1
    return dict(found)


def grant_uses(start: dt.datetime, end: dt.datetime) -> QuerySet:
    """支援措置 etc.: each opening of a restricted person's record under a 個別許可 (permission entries `use`)."""
    return AuditLogEntry.objects.filter(
        occurred_at__gte=start,
        occurred_at__lt=end,
        category=AuditLogEntry.Category.PERMISSION,
        action="use",
    ).order_by("pk")


# --- Charts: counts per day ------------------------------------------------------------------------------------------


def _clerk_accesses(start: dt.datetime, end: dt.datetime) -> QuerySet:
    return (
        AuditLogEntry.objects.filter(
            occurred_at__gte=start, occurred_at__lt=end, category=AuditLogEntry.Category.ACCESS
        )
        .exclude(action__in=LOGIN_FAILED_ACTIONS)
        .exclude(username="")
    )


def _per_day(qs: QuerySet, *group: str) -> Iterator[tuple]:
    rows = qs.annotate(day=TruncDate("occurred_at")).values(*group, "day").annotate(n=Count("pk")).order_by()
    for row in rows:
        yield (*(row[g] for g in group), row["day"], row["n"])


def after_hours_q() -> Q:
    """Outside office hours by the clock (ward time), as a database filter; closed days are handled per day."""
    opening, closing = office_hours.office_hours()
    return (
        Q(occurred_at__hour__lt=opening.hour)
        | Q(occurred_at__hour=opening.hour, occurred_at__minute__lt=opening.minute)
        | Q(occurred_at__hour__gt=closing.hour)
        | Q(occurred_at__hour=closing.hour, occurred_at__minute__gte=closing.minute)
    )


def accesses_by_clerk_and_day(first: dt.date, last: dt.date) -> dict[tuple[str, dt.date], int]:
    start, end = _day_start(first), _day_start(last + dt.timedelta(days=1))
    return {(user, day): n for user, day, n in _per_day(_clerk_accesses(start, end), "username")}


def access_pattern_by_day(first: dt.date, last: dt.date) -> dict[str, dict[dt.date, int]]:
    """Per day: accesses outside office hours on working days, accesses on closed days, denied accesses."""
    start, end = _day_start(first), _day_start(last + dt.timedelta(days=1))
    accesses = _clerk_accesses(start, end)
    totals = dict(_per_day(accesses))
    outside = dict(_per_day(accesses.filter(after_hours_q())))
    denied = dict(_per_day(accesses.filter(outcome=AuditLogEntry.Outcome.DENIED)))
    result: dict[str, dict[dt.date, int]] = {"after_hours": {}, "holiday": {}, "denied": denied}
    for day, n in totals.items():
        if office_hours.is_closed_day(day):
            result["holiday"][day] = n
        elif outside.get(day):
            result["after_hours"][day] = outside[day]
    return result


def transmission_problems_by_day(first: dt.date, last: dt.date) -> dict[str, dict[dt.date, int]]:
    """Per day: notices that failed for good (`failed`) and failed attempts that will be retried (`retried`)."""
    start, end = _day_start(first), _day_start(last + dt.timedelta(days=1))
    qs = AuditLogEntry.objects.filter(
        occurred_at__gte=start,
        occurred_at__lt=end,
        category=AuditLogEntry.Category.TRANSMISSION,
        action__in=("failed", "retried"),
    )
    result: dict[str, dict[dt.date, int]] = {"failed": {}, "retried": {}}
    for action, day, n in _per_day(qs, "action"):
        result[action][day] = n
    return result


def notice_backlog() -> dict[str, int]:
    """Notices not acknowledged now, per state (pending, sending, sent, failed)."""
    states = ("pending", "sending", "sent", "failed")
    counts = dict(
        OutboundNotice.objects.filter(state__in=states).values_list("state").annotate(n=Count("pk")).order_by()
    )
    return {state: counts.get(state, 0) for state in states}


def notice_backlog_by_day(first: dt.date, last: dt.date) -> dict[dt.date, int]:
    """Notices written but not acknowledged at the end of each day (failed ones included): the queue a partner's
    outage builds up. Reads only notices still open at the start of the period."""
    start, end = _day_start(first), _day_start(last + dt.timedelta(days=1))
    rows = (
        OutboundNotice.objects.filter(created_at__lt=end)
        .filter(Q(acknowledged_at__isnull=True) | Q(acknowledged_at__gte=start))
        .values_list("created_at", "acknowledged_at")
        .iterator(chunk_size=ITERATOR_CHUNK)
    )
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    ends = [_day_start(day + dt.timedelta(days=1)) for day in days]
    result = dict.fromkeys(days, 0)
    for created_at, acknowledged_at in rows:
        for day, day_end in zip(days, ends, strict=True):
            if created_at < day_end and (acknowledged_at is None or acknowledged_at >= day_end):
                result[day] += 1
    return result
