"""排他制御: while one clerk edits a 住民票 (or a 世帯), another clerk cannot start editing it.

A lock is an EditLock row per record, taken by the first POST of an entry screen (確認) and renewed on every step
(確認, 戻る, 記録), removed in the transaction that records the change, or when the clerk cancels. Opening a screen
(GET) takes no lock: it only tells the clerk when someone else holds one (`refuse_if_held`), so that a link opened
from anywhere — another tab, a mail, a crawler — never locks a record in a clerk's name. A lock not renewed for
LOCK_TTL expires: it no longer counts, and the next clerk takes it over.

Taking a lock is atomic and race-safe on PostgreSQL:
- renewing one's own lock, or taking over an expired one, is a conditional UPDATE (`WHERE holder = me OR
  expires_at <= now`): of two clerks taking over the same expired lock, the second waits on the row, re-checks the
  condition once the first commits, finds the lock live and changes nothing;
- a new lock is an INSERT guarded by the unique constraint on (subject_kind, subject_id): of two clerks inserting
  at once, the second waits for the first and fails on the constraint.
Whoever changes or inserts no row lost the race and is told who holds the record. Several records (a 世帯 and its
members) are taken all or nothing, in a fixed order so that two clerks never wait on each other crosswise.

EditLock is not a register model (no change history): `.update()` on it is deliberate.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from .choices import ResidentStatus
from .models import EditLock, Household, Resident

LOCK_TTL = dt.timedelta(minutes=15)  # a pause at the counter (a phone call, a question to a colleague) fits in it


@dataclass(frozen=True, order=True)
class LockKey:
    kind: str  # EditLock.Subject
    id: int


def resident_key(resident: Resident | int) -> LockKey:
    return LockKey(EditLock.Subject.RESIDENT, resident if isinstance(resident, int) else resident.pk)


def household_key(household: Household | int) -> LockKey:
    return LockKey(EditLock.Subject.HOUSEHOLD, household if isinstance(household, int) else household.pk)


def household_keys(household: Household) -> list[LockKey]:
    """A change to a 世帯 locks the 世帯 and every current member (their 続柄 may change with it)."""
    members = Resident.objects.filter(household=household, status=ResidentStatus.CURRENT).values_list("pk", flat=True)
    return [household_key(household), *(resident_key(pk) for pk in members)]


class LockRefused(Exception):
    """Another clerk holds one of the records. `message` says who and since when, for the screen."""

    def __init__(self, lock: EditLock) -> None:
        super().__init__("locked")
        self.lock = lock

    @property
    def message(self) -> str:
        return refusal_message(self.lock)


def holder_name(user) -> str:
    if user is None:
        return "別の職員"
    name = f"{user.last_name}{user.first_name}".strip()
    return name or user.get_username()


def refusal_message(lock: EditLock) -> str:
    what = "この住民票" if lock.subject_kind == EditLock.Subject.RESIDENT else "この世帯"
    since = timezone.localtime(lock.acquired_at).strftime("%H:%M")
    return f"{what}は{holder_name(lock.holder)}さんが編集中です（{since} から）"


def now() -> dt.datetime:
    return timezone.now()


def _take(user, key: LockKey, screen: str, at: dt.datetime, *, retry: bool = True) -> None:
    expires = at + LOCK_TTL
    mine_and_live = Q(holder=user, expires_at__gt=at)
    renewed = (
        EditLock.objects.filter(subject_kind=key.kind, subject_id=key.id)
        .filter(Q(holder=user) | Q(expires_at__lte=at))
        .update(
            holder=user,
            screen=screen,
            expires_at=expires,
            # Renewing keeps the start time (the message says since when); taking over starts anew.
            acquired_at=Case(When(mine_and_live, then=F("acquired_at")), default=Value(at)),
        )
    )
    if renewed:
        return
    try:
        with transaction.atomic():  # savepoint: a lost race must not break the caller's transaction
            EditLock.objects.create(
                subject_kind=key.kind, subject_id=key.id, holder=user, screen=screen, acquired_at=at, expires_at=expires
            )
    except IntegrityError:
        lock = EditLock.objects.select_related("holder").filter(subject_kind=key.kind, subject_id=key.id).first()
        if retry and (lock is None or lock.holder_id == user.pk or lock.expires_at <= at):
            # The holder let go (or it is ours after all) in between: one more try settles it.
            _take(user, key, screen, at, retry=False)
            return
        if lock is None:
            raise
        raise LockRefused(lock) from None


def acquire(user, keys: Iterable[LockKey], *, screen: str = "") -> None:
    """Take (or renew) every lock, all or nothing. Raises LockRefused naming the clerk who holds one of them."""
    at = now()
    with transaction.atomic():
        for key in sorted(set(keys)):
            _take(user, key, screen[:80], at)


def _matching(keys: Iterable[LockKey]) -> Q | None:
    condition = None
    for key in set(keys):
        one = Q(subject_kind=key.kind, subject_id=key.id)
        condition = one if condition is None else condition | one
    return condition


def refuse_if_held(user, keys: Iterable[LockKey]) -> None:
    """Raise LockRefused when another clerk holds a live lock on one of these records. Takes and changes nothing:
    for opening a screen (GET), which must never lock."""
    condition = _matching(keys)
    if condition is None:
        return
    held = (
        EditLock.objects.filter(condition, expires_at__gt=now())
        .exclude(holder=user)
        .select_related("holder")
        .order_by("acquired_at", "pk")
        .first()
    )
    if held is not None:
        raise LockRefused(held)


def release(user, keys: Iterable[LockKey]) -> int:
    """Give up this clerk's locks on these records (after recording, or on cancel). Returns how many were held."""
    condition = _matching(keys)
    if condition is None:
        return 0
    deleted, _ = EditLock.objects.filter(condition, holder=user).delete()
    return deleted


def live_locks():
    """The locks that count now (for the supervisor's list)."""
    return EditLock.objects.filter(expires_at__gt=now()).select_related("holder")
