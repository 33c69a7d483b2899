"""閲覧制限 and 個別許可: setting and lifting a restriction, granting and revoking a clerk's access to one restricted
person, and the one check every view and every list uses (`may_open`)."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from common.errors import ServiceError, clean_fields_or_raise
from koseki_fuhyo.models import FuhyoEntry
from koseki_fuhyo.services.restrictions import set_entries_restricted
from registry.models import Resident
from registry.services.restrictions import set_residents_restricted

from . import visibility
from .log import record_permission_event
from .models import AccessGrant, AccessRestriction

RESIDENT_PERM = "registry.view_restricted_resident"
FUHYO_PERM = "koseki_fuhyo.view_restricted_fuhyoentry"
MAX_GRANT_DAYS = 90  # a grant is an exception for one case; a long one must be renewed with a fresh reason


def _persons_of(restriction: AccessRestriction) -> tuple[list[Resident], list[FuhyoEntry]]:
    """Every row of the restricted person: by 住民票コード, and rows without a code by 氏名・生年月日; the rows the
    restriction was set on in any case."""
    subject = restriction.resident or restriction.fuhyo_entry
    residents, entries = visibility.rows_of_person(
        juminhyo_code=restriction.juminhyo_code,
        surname=subject.surname if subject else "",
        given_name=subject.given_name if subject else "",
        birth_date=subject.birth_date if subject else None,
    )
    if restriction.resident_id and restriction.resident_id not in {r.pk for r in residents}:
        residents.append(restriction.resident)
    if restriction.fuhyo_entry_id and restriction.fuhyo_entry_id not in {e.pk for e in entries}:
        entries.append(restriction.fuhyo_entry)
    return residents, entries


def _set_flag(residents: list[Resident], entries: list[FuhyoEntry], value: bool) -> None:
    """The flag on the person's rows is written by the registers' own services."""
    set_residents_restricted(residents, value)
    set_entries_restricted(entries, value)


@transaction.atomic
def restrict(
    *,
    actor,
    kind: str,
    reason: str,
    starts_on: dt.date,
    resident: Resident | None = None,
    fuhyo_entry: FuhyoEntry | None = None,
    ends_on: dt.date | None = None,
    request=None,
) -> AccessRestriction:
    """Restrict a person on both registers at once: every 住民票 (incl. 除票) and 附票 row with the same
    住民票コード."""
    if not reason.strip():
        raise ServiceError({"reason": ["閲覧制限の理由を入力してください。"]})
    subject = _one_of(resident, fuhyo_entry)
    code = subject.juminhyo_code
    residents, entries = visibility.rows_of_person(
        juminhyo_code=code, surname=subject.surname, given_name=subject.given_name, birth_date=subject.birth_date
    )
    residents = residents or ([resident] if resident else [])
    entries = entries or ([fuhyo_entry] if fuhyo_entry else [])
    restriction = AccessRestriction(
        juminhyo_code=code,
        identity_key=visibility.identity_key(subject.surname, subject.given_name, subject.birth_date),
        resident=resident or (residents[0] if residents else None),
        fuhyo_entry=fuhyo_entry or (entries[0] if entries else None),
        kind=kind,
        reason=reason.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=actor,
    )
    # The code keys the restriction to the person's rows (lifting finds them by it); a code that fails its check
    # digit was written around the services and is corrected first (住民票コードの職権修正).
    clean_fields_or_raise(restriction, ["juminhyo_code"])
    restriction.save()
    _set_flag(residents, entries, True)
    record_permission_event(
        "restrict",
        actor=actor,
        subject_kind="person",
        subject_ids=[r.pk for r in residents],
        details={"restriction_id": restriction.pk, "kind": kind, "fuhyo_entry_ids": [e.pk for e in entries]},
        request=request,
    )
    return restriction


@transaction.atomic
def lift(restriction: AccessRestriction, *, actor, reason: str, request=None) -> None:
    """Lift one restriction; the flag stays while another restriction of the person is active."""
    if not reason.strip():
        raise ServiceError({"reason": ["解除の理由を入力してください。"]})
    restriction = AccessRestriction.objects.select_for_update().get(pk=restriction.pk)
    if restriction.lifted_at is not None:
        raise ServiceError("この閲覧制限はすでに解除されています。", code="already_lifted")
    restriction.lifted_at = timezone.now()
    restriction.lifted_by = actor
    restriction.lift_reason = reason.strip()
    restriction.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    subject = restriction.resident or restriction.fuhyo_entry
    still = visibility.person_is_restricted(
        juminhyo_code=restriction.juminhyo_code,
        surname=subject.surname if subject else "",
        given_name=subject.given_name if subject else "",
        birth_date=subject.birth_date if subject else None,
    )
    residents, entries = _persons_of(restriction)
    if not still:
        _set_flag(residents, entries, False)
    record_permission_event(
        "lift",
        actor=actor,
        subject_kind="person",
        subject_ids=[r.pk for r in residents],
        details={"restriction_id": restriction.pk, "still_restricted": still},
        request=request,
    )


def validate_grant(
    *,
    actor,
    user,
    reason: str,
    expires_at: dt.datetime,
    resident: Resident | None = None,
    fuhyo_entry: FuhyoEntry | None = None,
) -> None:
    """The rules of a grant, checked when it is requested and again when it is approved (ServiceError)."""
    problems: dict[str, list[str]] = {}
    if not reason.strip():
        problems["reason"] = ["許可の理由を入力してください。"]
    if user is not None and actor is not None and user.pk == actor.pk:
        problems["user"] = ["自分自身に個別許可を付与することはできません。"]
    now = timezone.now()
    if expires_at <= now:
        problems["expires_at"] = ["有効期限は現在より後にしてください。"]
    elif expires_at > now + dt.timedelta(days=MAX_GRANT_DAYS):
        problems["expires_at"] = [f"有効期限は{MAX_GRANT_DAYS}日以内にしてください。"]
    if (resident is None) == (fuhyo_entry is None):
        problems["resident"] = ["許可の対象（住民票または附票の一人）を指定してください。"]
    if problems:
        raise ServiceError(problems)


def _one_of(resident: Resident | None, fuhyo_entry: FuhyoEntry | None) -> Resident | FuhyoEntry:
    """Whom a restriction or a grant is about: its 住民票, else its 附票 row."""
    subject = resident or fuhyo_entry
    if subject is None:
        raise ServiceError({"resident": ["制限する人を指定してください。"]})
    return subject


@transaction.atomic
def grant(
    *,
    actor,
    user,
    reason: str,
    expires_at: dt.datetime,
    resident: Resident | None = None,
    fuhyo_entry: FuhyoEntry | None = None,
    request=None,
) -> AccessGrant:
    """Let `user` open one restricted person's record until `expires_at` (a guardian object permission).

    The screens never call this directly: a grant is requested (accounts.approvals.request_grant) and this runs when a
    second supervisor approves, with that supervisor as `actor` (two people for a grant: nobody grants to
    themselves)."""
    validate_grant(
        actor=actor, user=user, reason=reason, expires_at=expires_at, resident=resident, fuhyo_entry=fuhyo_entry
    )
    access_grant = AccessGrant.objects.create(
        user=user,
        resident=resident,
        fuhyo_entry=fuhyo_entry,
        reason=reason.strip(),
        expires_at=expires_at,
        granted_by=actor,
    )
    if resident is not None:
        assign_perm(RESIDENT_PERM, user, resident)
    else:
        assign_perm(FUHYO_PERM, user, fuhyo_entry)
    record_permission_event(
        "grant",
        actor=actor,
        subject_kind="resident" if resident else "fuhyo_entry",
        subject_ids=[_one_of(resident, fuhyo_entry).pk],
        details={"grant_id": access_grant.pk, "user_id": user.pk, "expires_at": expires_at.isoformat()},
        request=request,
    )
    return access_grant


@transaction.atomic
def revoke(access_grant: AccessGrant, *, actor, reason: str, request=None, action: str = "revoke") -> None:
    access_grant = AccessGrant.objects.select_for_update().get(pk=access_grant.pk)
    if access_grant.revoked_at is not None:
        return
    access_grant.revoked_at = timezone.now()
    access_grant.revoked_by = actor
    access_grant.revoke_reason = reason
    access_grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    _sync_perm(access_grant.user, access_grant.resident, access_grant.fuhyo_entry)
    subject = _one_of(access_grant.resident, access_grant.fuhyo_entry)
    record_permission_event(
        action,
        actor=actor,
        subject_kind="resident" if access_grant.resident else "fuhyo_entry",
        subject_ids=[subject.pk],
        details={"grant_id": access_grant.pk, "user_id": access_grant.user_id, "reason": reason},
        request=request,
    )


def _active_grants(user, resident=None, fuhyo_entry=None):
    qs = AccessGrant.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now())
    return qs.filter(resident=resident) if resident is not None else qs.filter(fuhyo_entry=fuhyo_entry)


def _sync_perm(user, resident, fuhyo_entry) -> None:
    """The guardian permission exists exactly while an unexpired, unrevoked grant does."""
    if _active_grants(user, resident, fuhyo_entry).exists():
        return
    if resident is not None:
        remove_perm(RESIDENT_PERM, user, resident)
    else:
        remove_perm(FUHYO_PERM, user, fuhyo_entry)


def revoke_all_of(user, *, actor, reason: str, request=None) -> int:
    """Every active grant of `user` ends (their credentials were reset: whoever signs in next may not be the
    person the grants were approved for). Returns how many."""
    active = AccessGrant.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now())
    count = 0
    for access_grant in active:
        revoke(access_grant, actor=actor, reason=reason, request=request)
        count += 1
    return count


def revoke_expired() -> int:
    """Nightly (and before every check): expired grants lose their permission, and the expiry is logged."""
    expired = AccessGrant.objects.filter(revoked_at__isnull=True, expires_at__lte=timezone.now())
    count = 0
    for access_grant in expired:
        revoke(access_grant, actor=None, reason="有効期限切れ", action="expire")
        count += 1
    return count


def may_open(user, obj: Resident | FuhyoEntry) -> bool:
    """The object-level check of one record: the one rule of audit.visibility (an unrestricted record opens for
    anyone with the model permission, checked by the gate; a restricted one only with the guardian permission backed
    by an active, unexpired grant)."""
    return visibility.may_see(user, obj)


def active_restrictions(code: str):
    return AccessRestriction.objects.filter(juminhyo_code=code, lifted_at__isnull=True)
