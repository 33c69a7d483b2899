"""Who may see which person: the one rule (in the spirit of NetBox's `RestrictedQuerySet.restrict(user, action)`).

A person is *restricted for a user* while the row carries `access_restricted` (an active 閲覧制限 of the person: see
audit.restrictions) and the user holds no active 個別許可 for that row (an unexpired, unrevoked AccessGrant, backed
by its guardian object permission). Everything that shows a person asks here:

- querysets: `Resident.objects.visible_to(user)`, `FuhyoEntry.objects.visible_to(user)`, and the rows that carry a
  person (異動履歴, 附票の住所, 届出の関係者 …) through `common.visibility.VisibleToQuerySet`, all built on
  `visible_q(user, model, path)`;
- one record: `may_see(user, record)` (the gate's `access.may_see` / `access.open`).

The restriction belongs to the person, not to a row: `person_is_restricted(...)` tells the services that create a
住民票, a 附票 row or a 戸籍 membership to flag the new row in the same transaction, and `require_may_change(...)`
refuses a change of a restricted person to an actor without a grant.
"""

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Model, Q
from django.utils import timezone

from common.context import current
from common.errors import ServiceError

RESIDENT_PERM = "registry.view_restricted_resident"
FUHYO_PERM = "koseki_fuhyo.view_restricted_fuhyoentry"
RESTRICTED_LABEL = "閲覧制限のある方"
REFUSED_CHANGE = "閲覧制限のある方の記録です。個別許可を受けた職員が手続してください。"


def _models():
    return apps.get_model("registry", "Resident"), apps.get_model("koseki_fuhyo", "FuhyoEntry")


def _grant_field(model: type[Model]) -> tuple[str, str]:
    resident_model, _ = _models()
    return ("resident", RESIDENT_PERM) if model is resident_model else ("fuhyo_entry", FUHYO_PERM)


def _active_grants(user):
    grants = apps.get_model("audit", "AccessGrant").objects
    return grants.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now())


def granted_ids(user, model: type[Model]) -> set[int]:
    """The rows of `model` (住民票 or 附票記載) this user holds an active grant for, confirmed by the guardian
    permission (the two exist together; a grant without its permission opens nothing)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    field, perm = _grant_field(model)
    ids = set(_active_grants(user).filter(**{f"{field}__isnull": False}).values_list(f"{field}_id", flat=True))
    if not ids:
        return set()
    return {obj.pk for obj in model._base_manager.filter(pk__in=ids) if user.has_perm(perm, obj)}


def visible_q(user, model: type[Model], path: str = "") -> Q:
    """The condition "this user may see the person unmasked" on `model`'s rows, reached from the queried model by
    `path` (e.g. "resident__" from 異動履歴)."""
    condition = Q(**{f"{path}access_restricted": False})
    ids = granted_ids(user, model)
    if ids:
        condition |= Q(**{f"{path}pk__in": ids})
    return condition


def may_see(user, record) -> bool:
    """One record: unrestricted, or restricted with this user's active grant for that row."""
    if not record.access_restricted:
        return True
    return record.pk in granted_ids(user, type(record))


# --- The person behind the rows ---------------------------------------------------------------------------------


def identity_key(surname: str, given_name: str, birth_date) -> str:
    """Who a person is when no 住民票コード says it: 氏名 and 生年月日 as written."""
    if not (surname and given_name and birth_date):
        return ""
    return f"{surname}　{given_name}|{birth_date.isoformat()}"


def _restrictions_of(code: str, key: str):
    active = apps.get_model("audit", "AccessRestriction").objects.filter(lifted_at__isnull=True)
    condition = Q(pk__in=[])
    if code:
        condition |= Q(juminhyo_code=code)
        if key:  # a restriction set on a person without a code, found again by their identity
            condition |= Q(juminhyo_code="", identity_key=key)
    elif key:
        condition |= Q(identity_key=key)
    return active.filter(condition)


def person_is_restricted(*, juminhyo_code: str, surname: str, given_name: str, birth_date) -> bool:
    """Whether an active 閲覧制限 covers this person (by 住民票コード, or by identity for one without a code): the
    services flag every new 住民票, 附票 row and 戸籍 membership of such a person in the same transaction."""
    return _restrictions_of(juminhyo_code or "", identity_key(surname, given_name, birth_date)).exists()


def rows_of_person(*, juminhyo_code: str, surname: str = "", given_name: str = "", birth_date=None):
    """Every 住民票 (incl. 除票) and 附票 row of one person: those with the code, and rows without a code that carry the
    same identity."""
    resident_model, entry_model = _models()
    condition = Q(pk__in=[])
    if juminhyo_code:
        condition |= Q(juminhyo_code=juminhyo_code)
    if surname and given_name and birth_date:
        condition |= Q(juminhyo_code="", surname=surname, given_name=given_name, birth_date=birth_date)
    return list(resident_model._base_manager.filter(condition)), list(entry_model._base_manager.filter(condition))


def may_act_on(user, record) -> bool:
    """Whether `user` may change (or create a record for) the person of `record`: unrestricted, or the user holds
    an active grant for some row of that person."""
    if not record.access_restricted:
        return True
    if user is None:
        return False
    residents, entries = rows_of_person(
        juminhyo_code=record.juminhyo_code,
        surname=record.surname,
        given_name=record.given_name,
        birth_date=record.birth_date,
    )
    resident_model, entry_model = _models()
    granted = granted_ids(user, resident_model) & {r.pk for r in residents}
    return bool(granted or granted_ids(user, entry_model) & {e.pk for e in entries})


class RestrictedPersonError(ServiceError):
    """A service was asked to change a restricted person by an actor without a grant."""

    def __init__(self, record) -> None:
        super().__init__(REFUSED_CHANGE, code="restricted_person")
        self.record = record


def acting_user():
    """The user the audit context names (a clerk through the web, or whoever a command or test names)."""
    ctx = current()
    if ctx is None or ctx.actor_id is None:
        return None
    return get_user_model().objects.filter(pk=ctx.actor_id).first()


def require_may_change(*records: Any) -> None:
    """Refuse (RestrictedPersonError, a Japanese ServiceError) when a record of a restricted person is changed by an
    acting user without a grant. A change without an actor (the night batch, an inbound notice) is the system's own."""
    restricted = [r for r in records if r is not None and r.access_restricted]
    if not restricted:
        return
    user = acting_user()
    if user is None:
        return
    for record in restricted:
        if not may_act_on(user, record):
            raise RestrictedPersonError(record)


# --- Names of restricted persons printed in other people's records -------------------------------------------------


def hidden_names(user) -> frozenset[str]:
    """The names of every person restricted for `user`, as other records copy them (筆頭者の氏名, 世帯主 in 異動履歴,
    the 世帯主 column of an export): 「氏　名」, 「氏 名」 and 「氏名」."""
    resident_model, entry_model = _models()
    names: set[str] = set()
    for model in (resident_model, entry_model):
        for surname, given in model.objects.masked_for(user).values_list("surname", "given_name").distinct():
            names.update({f"{surname}　{given}", f"{surname} {given}", f"{surname}{given}"})
    return frozenset(names)


def mask_names(text: str, names: frozenset[str]) -> str:
    """`text` with every name of `names` replaced by 「閲覧制限のある方」."""
    if not text or not names:
        return text
    for name in sorted(names, key=len, reverse=True):
        if name in text:
            text = text.replace(name, RESTRICTED_LABEL)
    return text


def mask_name_fields(records, fields: tuple[str, ...], names: frozenset[str]) -> None:
    """For display only (the instances are never saved afterwards): mask the names in these text fields."""
    if not names:
        return
    for record in records:
        for name in fields:
            setattr(record, name, mask_names(getattr(record, name), names))
