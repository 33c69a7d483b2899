"""IDOR sweep: every URL pattern that takes an object id (found by the URL walk of test_url_walk.py, so a new one is
covered without editing this file), requested as every role — 窓口担当, 戸籍担当, 監督者, 運用担当 — and, once the
person it names is restricted, as every role again and as a clerk holding a grant for that record.

"Allowed" is derived, not listed: the gate's declared permissions (audit.gate.gate_of) held by the role's group,
and, for a restricted person's record, the guardian object permission backed by an active grant (read here from
guardian and AccessGrant, as audit.restrictions.may_open states the rule); the account screens by their
permission (accounts.manage_users).

- allowed: 200 (a POST-only view: 200 or 400; a finder: its redirect);
- not allowed: 403 or 404 (or the login page), the body holds none of the person's name, カナ or 住所 strings, and a
  gated view wrote exactly one access-log entry, `denied` or `not_found`;
- and on every id page a role may open, a restricted person's name, カナ and 住所 appear only to a user who may
  open that person's record (lists and notices mask them).

The dummy person the URLs point to gets distinctive strings (SECRETS) so that a leak cannot hide behind a common
name; they are set on the 住民票, its 附票, the 世帯 and the inbound notice's payload.
"""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from audit import restrictions
from audit.gate import gate_of
from audit.models import AuditLogEntry
from common.roles import MANAGE_USERS, ROLES, ROLES_BY_KEY, assign_role, ensure_roles

from .screens import entries_after, last_id, user_with
from .test_url_walk import (
    PERSON_OBJECTS,
    REDIRECTS,
    ROUTES,
    World,
    answer_for,
    find_arguments,
    permitted_user,
    route_url,
)

pytestmark = pytest.mark.django_db

ID_ROUTES = [r for r in ROUTES if any(kind == "int" for _, kind in r.kwargs)]
# The strings of the person the URLs name (the world's 住民票 and its 附票): nobody who may not open the record may
# see them. Distinctive on purpose: no other dummy record holds them.
SECRETS = {
    "surname": "鬼塚",
    "given_name": "蘭丸",
    "surname_kana": "オニヅカ",
    "given_name_kana": "ランマル",
    "address": "検査町九丁目9番9号",
}
STAFF_SECRET = "監査対象職員"  # the last name of the staff account the account screens show


def _secret_world() -> World:
    from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry
    from registry.models import Household, Resident

    world = World()
    person = {k: v for k, v in SECRETS.items() if k != "address"}
    Resident.objects.filter(pk=world.resident.pk).update(**person, address=SECRETS["address"])
    Household.objects.filter(pk=world.household.pk).update(address=SECRETS["address"])
    FuhyoEntry.objects.filter(juminhyo_code=world.resident.juminhyo_code).update(**person)
    FuhyoAddress.objects.filter(entry__juminhyo_code=world.resident.juminhyo_code).update(address=SECRETS["address"])
    notice = world.inbound_notice
    notice.payload = {"person": {**person, "address": SECRETS["address"]}}
    notice.save(update_fields=["payload"])
    for obj in (world.resident, world.household, world.fuhyo_entry):
        obj.refresh_from_db()
    return world


def _role_users() -> dict[str, object]:
    groups = ensure_roles()
    users = {}
    for role in ROLES:
        user = user_with(f"idor-{role.key}")
        assign_role(user, role, groups)
        users[role.key] = type(user).objects.get(pk=user.pk)
    return users


def _ask(user, url: str):
    """One request as `user`, with no edit lock left by the previous user (the entry screens answer 409 to a
    second clerk while the first holds the 世帯: locking, not access control)."""
    from registry.models import EditLock

    EditLock.objects.all().delete()
    return answer_for(_client(user), url)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _may_use(route, user) -> bool:
    gate = gate_of(route.callback)
    declared = gate.permissions if gate else (MANAGE_USERS,)
    return all(user.has_perm(p) for p in declared)


def _may_open(user, record) -> bool:
    """The object rule, derived here from guardian and the grants (not by calling the code under test): a
    restricted record opens only for a user holding the guardian object permission and an active grant for it."""
    from guardian.core import ObjectPermissionChecker

    from audit.models import AccessGrant

    record.refresh_from_db()
    if not record.access_restricted:
        return True
    is_resident = record._meta.model_name == "resident"
    codename = "view_restricted_resident" if is_resident else "view_restricted_fuhyoentry"
    grants = AccessGrant.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=_now())
    grants = grants.filter(**{"resident" if is_resident else "fuhyo_entry": record})
    return ObjectPermissionChecker(user).has_perm(codename, record) and grants.exists()


def _leaks(body: str, secrets) -> list[str]:
    return [s for s in secrets if s in body]


def _expect_allowed(route, answer, who: str) -> None:
    expected = (302,) if route.key in REDIRECTS else (200,) if answer.method == "GET" else (200, 400)
    assert answer.status in expected, f"{route.key} as {who}: allowed, but answered {answer.status}"


def _expect_denied(route, answer, who: str, secrets) -> None:
    status = answer.status
    login = status == 302 and answer.response["Location"].startswith("/login/")
    assert status in (403, 404) or login, f"{route.key} as {who}: not allowed, but answered {status}"
    body = answer.response.content.decode("utf-8", "replace")
    assert not _leaks(body, secrets), f"{route.key} as {who}: the refusal shows {_leaks(body, secrets)}"
    staff_page_refused = route.key.startswith("accounts:") and status == 403  # accounts.views.manager_view
    if gate_of(route.callback) is not None or staff_page_refused:
        access = entries_after(answer.mark, category=AuditLogEntry.Category.ACCESS)
        assert [e.outcome for e in access] in (["denied"], ["not_found"]), (
            f"{route.key} as {who}: expected one denied/not_found entry, got {[e.outcome for e in access]}"
        )


def _arguments(route, world: World) -> tuple[str, dict[str, str]]:
    if dict(route.kwargs).keys() >= {"user_id"}:  # a staff account (the account screens): not in the walk's world
        staff = user_with("idor-staff", last_name=STAFF_SECRET)
        kwargs = {"user_id": staff.pk, **({"action": "role"} if "action" in dict(route.kwargs) else {})}
        return route_url(route, kwargs), {}
    kwargs, names = find_arguments(route, world, _client(permitted_user(route)))
    return route_url(route, kwargs), names


@pytest.mark.parametrize("route", ID_ROUTES, ids=str)
def test_every_role_gets_exactly_what_it_may_open(route, frozen_today):
    world = _secret_world()
    users = _role_users()
    url, names = _arguments(route, world)
    secrets = [STAFF_SECRET] if route.key.startswith("accounts:") else list(SECRETS.values())
    persons = [what for what in names.values() if what in PERSON_OBJECTS]
    for key, user in users.items():
        answer = _ask(user, url)
        if _may_use(route, user):
            _expect_allowed(route, answer, key)
            if persons and answer.status == 200:  # the strings are on the page: their absence below means something
                assert _leaks(answer.response.content.decode(), secrets), f"{route.key}: no person strings shown"
        else:
            _expect_denied(route, answer, key, secrets)
    if not persons:
        return
    # The person the URL names, restricted (支援措置): only a grant opens the record, for any role.
    target = world.objects()[persons[0]]
    restrictions.restrict(
        actor=world.supervisor,
        kind="dv_support",
        reason="IDOR sweep",
        starts_on=dt.date(2026, 11, 1),
        **{"resident" if target._meta.model_name == "resident" else "fuhyo_entry": target},
    )
    target.refresh_from_db()
    granted = _granted_user(route, world, target)
    for who, user in [*users.items(), ("granted", granted)]:
        answer = _ask(user, url)
        if _may_use(route, user) and _may_open(user, target):
            _expect_allowed(route, answer, who)
        else:
            _expect_denied(route, answer, who, list(SECRETS.values()))


def _granted_user(route, world: World, target):
    """A user of the first role that may use the view, with a grant for exactly this record."""
    role = next(r for r in ROLES if _may_use(route, _role_users_cache(r.key)))
    user = user_with(f"idor-granted-{role.key}")
    assign_role(user, ROLES_BY_KEY[role.key], ensure_roles())
    restrictions.grant(
        actor=world.supervisor,
        user=user,
        reason="IDOR sweep",
        expires_at=_now() + dt.timedelta(days=3),
        **{"resident" if target._meta.model_name == "resident" else "fuhyo_entry": target},
    )
    return type(user).objects.get(pk=user.pk)


def _role_users_cache(key: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=f"idor-{key}")


def _now():
    from django.utils import timezone

    return timezone.now()


@pytest.mark.parametrize("route", ID_ROUTES, ids=str)
def test_a_restricted_person_never_shows_to_a_role_without_a_grant(route, frozen_today):
    """The world's person restricted, then every id page every role may open: the person's strings appear only
    to a user who may open the record."""
    world = _secret_world()
    users = _role_users()
    url, _ = _arguments(route, world)
    restrictions.restrict(
        actor=world.supervisor,
        kind="dv_support",
        reason="IDOR sweep",
        starts_on=dt.date(2026, 11, 1),
        resident=world.resident,
    )
    world.resident.refresh_from_db()
    assert world.resident.access_restricted
    for key, user in users.items():
        if not _may_use(route, user):
            continue
        mark = last_id()
        answer = _ask(user, url)
        assert answer.status < 500, f"{route.key} as {key}: {answer.status}"
        body = answer.response.content.decode("utf-8", "replace")
        if not _may_open(user, world.resident):
            assert not _leaks(body, SECRETS.values()), f"{route.key} as {key} shows {_leaks(body, SECRETS.values())}"
        assert AuditLogEntry.objects.filter(pk__gt=mark).exists() or gate_of(route.callback) is None


def test_the_sweep_covers_the_object_pages():
    keys = {r.key for r in ID_ROUTES}
    expected = {"registry:resident", "notices:inbound", "audit:export_download", "accounts:user_detail"}
    expected |= {"audit:erasure_report", "audit:flag_review", "audit:restriction", "koseki_filings:filing"}
    assert expected <= keys, expected - keys
    assert Permission.objects.filter(codename="view_restricted_resident").exists()
