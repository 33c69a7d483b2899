"""Every read the supervisor's screens and the periodic analysis make of the audit log, the restrictions and the
grants. Views stay thin: they call these, then render.

The access log grows by one row per request to a personal-data view (millions a year), so the list is read with
keyset pagination on the primary key (`before=<id>`), never with OFFSET and never with COUNT(*).
"""

import datetime as dt
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from koseki_fuhyo.models import FuhyoEntry
from registry.models import Resident

from .models import AccessGrant, AccessRestriction, AuditLogEntry

LOG_PAGE_SIZE = 50  # one screen of rows; the next page is fetched by id, so its cost does not grow with depth
RESTRICTION_PAGE_LIMIT = 500  # restrictions and grants are exceptions: a few hundred at most in a ward

# Off hours, in the ward's time (settings.TIME_ZONE, Asia/Tokyo): the office is closed from 22:00 to 6:00, on
# Saturdays and Sundays and during 年末年始 (12/29–1/3, 行政機関の休日). National holidays are not in this list:
# the project has no holiday calendar yet (see the report of issue 3).
NIGHT_STARTS = 22
NIGHT_ENDS = 6
YEAR_END_CLOSED = ((12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3))

# Subject ids of an access entry are record ids; which table they point to depends on the view's subject kind.
# Views of the 戸籍・附票 side name 附票 rows (FuhyoEntry ids); every other view names 住民票 ids. Admin pages name
# the object of their model ("admin:<app>.<model>"), of which only the two person models count here.
FUHYO_KIND_RE = r"(koseki|fuhyo)"
ADMIN_KIND_PREFIX = "admin:"
ADMIN_RESIDENT_KIND = "admin:registry.resident"
ADMIN_FUHYO_KIND = "admin:koseki_fuhyo.fuhyoentry"


# --- Night and holiday -----------------------------------------------------------------------------------------


def is_night(moment: dt.datetime) -> bool:
    local = timezone.localtime(moment)
    return local.hour >= NIGHT_STARTS or local.hour < NIGHT_ENDS


def is_holiday(moment: dt.datetime) -> bool:
    local = timezone.localtime(moment)
    return local.isoweekday() >= 6 or (local.month, local.day) in YEAR_END_CLOSED


def off_hours_q() -> Q:
    """The same rule as is_night() or is_holiday(), as a database filter (evaluated in the ward's time zone)."""
    q = Q(occurred_at__hour__gte=NIGHT_STARTS) | Q(occurred_at__hour__lt=NIGHT_ENDS)
    q |= Q(occurred_at__iso_week_day__gte=6)
    for month, day in YEAR_END_CLOSED:
        q |= Q(occurred_at__month=month, occurred_at__day=day)
    return q


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
    stored JSON text instead ("[1, 2, 3]"), which needs the `subject_ids_text` annotation from `_with_text()`."""
    q = Q(pk__in=[])
    for pk in ids:
        if connection.vendor == "postgresql":
            q |= Q(subject_ids__contains=[pk])
        else:
            q |= Q(subject_ids_text__regex=rf"(^\[|[ ,]){int(pk)}(\]|,)")
    return q


def _with_text(qs: QuerySet) -> QuerySet:
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
    return q


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
        qs = qs.filter(off_hours_q())
    if flt.person is not None:
        qs = _with_text(qs).filter(person_q(flt.person))
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


@dataclass
class UserAnomalies:
    username: str
    off_hours: int = 0
    denied: int = 0
    login_failed: int = 0
    person_views: int = 0
    peak_per_hour: int = 0
    mass_view_episodes: int = 0

    @property
    def flagged(self) -> bool:
        return bool(self.off_hours or self.denied or self.login_failed or self.mass_view_episodes)


def anomaly_report(
    start: dt.datetime, end: dt.datetime, *, threshold: int = MASS_VIEW_THRESHOLD
) -> list[UserAnomalies]:
    """Per user, for [start, end): access at night or on holidays, denied attempts, failed logins, and 大量閲覧
    (more than `threshold` persons named on pages within any sliding hour). One scan of the period in time order."""
    by_user: dict[str, UserAnomalies] = {}
    windows: dict[str, deque[tuple[dt.datetime, int]]] = defaultdict(deque)
    window_sums: dict[str, int] = defaultdict(int)
    rows = (
        AuditLogEntry.objects.filter(
            occurred_at__gte=start, occurred_at__lt=end, category=AuditLogEntry.Category.ACCESS
        )
        .order_by("pk")
        .values_list("username", "occurred_at", "action", "outcome", "subject_ids")
        .iterator(chunk_size=ITERATOR_CHUNK)
    )
    for username, occurred_at, action, outcome, subject_ids in rows:
        key = username or "（不明）"
        stats = by_user.get(key) or by_user.setdefault(key, UserAnomalies(key))
        if action == "login_failed":
            stats.login_failed += 1
            continue
        if is_night(occurred_at) or is_holiday(occurred_at):
            stats.off_hours += 1
        if outcome == AuditLogEntry.Outcome.DENIED:
            stats.denied += 1
        if outcome != AuditLogEntry.Outcome.SHOWN or not subject_ids:
            continue
        shown = len(subject_ids)
        stats.person_views += shown
        window = windows[key]
        while window and window[0][0] <= occurred_at - MASS_VIEW_WINDOW:
            window_sums[key] -= window.popleft()[1]
        before = window_sums[key]
        window.append((occurred_at, shown))
        window_sums[key] += shown
        stats.peak_per_hour = max(stats.peak_per_hour, window_sums[key])
        if before <= threshold < window_sums[key]:
            stats.mass_view_episodes += 1
    return sorted(by_user.values(), key=lambda s: s.username)


def iter_flagged(report: Iterable[UserAnomalies]) -> Iterator[UserAnomalies]:
    return (row for row in report if row.flagged)
