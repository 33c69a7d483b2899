"""The page scan (acceptance of issue 12): every URL of the walk (test_url_walk's routes and world) and every admin
page, as each role without a grant — 窓口担当, 戸籍担当, 運用担当, 監督者 — with the restricted fixture persons of
restricted_persons.py (a resident with 住民票 and 附票, a restricted 世帯員, a koseki member living elsewhere) as URL
arguments and as search conditions: no rendered page may contain their name, カナ, 生年月日 (西暦 and 和暦),
住民票コード or address.

What the user typed is not the register speaking: a search form echoes its input, so the typed values (and the 和暦 of
a typed date) are taken out of the body before it is scanned. A 世帯's address is also that of its unrestricted
members (their own data, on their own pages), so the restricted 世帯員's shared address is not scanned; the address
of the koseki member living elsewhere is. The audit screens list the conditions clerks typed — here, the scan's own
searches — so on them every value the scan typed is taken out.

One declared exception, `RESTRICTION_MANAGEMENT`: the supervisor's screens that set, lift and grant a restriction
name the person they act on (its reason, logged as every page); they are for `audit.manage_restriction` only.
"""

import datetime as dt
import itertools
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, reverse

from common.roles import KOSEKI_CLERK, OPERATOR, RESIDENT_CLERK, SUPERVISOR, assign_role, ensure_roles
from common.wareki import to_wareki
from transfers.models import OutboundNotice

from .restricted_persons import leaks, make_restricted_persons, move_into_restricted_household
from .screens import user_with
from .test_url_walk import NOT_PUBLIC, World, argument_candidates

pytestmark = pytest.mark.django_db

RESTRICTION_MANAGEMENT = {
    "audit:restrictions",
    "audit:restrict",
    "audit:restriction",
    "audit:lift",
    "audit:grant",
    "audit:grants",
    "audit:revoke",
}
ROLES = {"clerk": RESIDENT_CLERK, "koseki_clerk": KOSEKI_CLERK, "operator": OPERATOR, "supervisor": SUPERVISOR}
WORLD_CANDIDATES = 2  # world records tried per argument besides the fixtures (the walk itself tries them all)
MAX_URLS_PER_ROUTE = 40


class ScanWorld:
    """The walk's world and the restricted fixture persons, with the records around them: a newcomer in the
    restricted person's 世帯 (their 異動履歴 names the 世帯主), a change event and a notice about the restricted
    person."""

    def __init__(self) -> None:
        self.world = World()
        self.persons = make_restricted_persons()
        kitouin = self.persons["kitouin"]
        self.newcomer = move_into_restricted_household(kitouin.resident)
        self.event, self.notice = self._notice_about(kitouin)

    def _notice_about(self, person):
        from common.models import ChangeEvent
        from transfers.models import OutboundNotice

        payload = {
            "person": {
                "surname": person.surname,
                "given_name": person.given_name,
                "juminhyo_code": person.juminhyo_code,
                "birth_date": person.birth_date.isoformat(),
            }
        }
        event = ChangeEvent.objects.create(
            kind=ChangeEvent.Kind.RESIDENT_AMENDED,
            change_group=uuid.uuid4(),
            reason="職権修正",
            payload=payload,
            resident=person.resident,
            fuhyo_entry=person.entry,
            source="test",
        )
        notice = OutboundNotice.objects.create(kind="fuhyo_items", receiver="131130", payload=payload, event=event)
        return event, notice

    def fixture_records(self) -> list[Any]:
        p = self.persons
        kitouin = p["kitouin"]
        records = [
            kitouin.resident,
            kitouin.entry,
            kitouin.entry.koseki,
            kitouin.resident.household,
            p["washinomiya"].resident,
            p["washinomiya"].resident.household,
            p["higaki"].entry,
            self.newcomer,
            self.event,
            self.notice,
            *kitouin.resident.changes.all(),
            *self.newcomer.changes.all(),
            # the newcomer's own notices name the restricted 世帯主 in their payload
            *OutboundNotice.objects.filter(event__resident=self.newcomer),
        ]
        return [r for r in records if r is not None]

    def queries(self) -> list[dict[str, str]]:
        p = self.persons
        kitouin = p["kitouin"]
        found: list[dict[str, str]] = [{}]
        for person in p.values():
            code = person.juminhyo_code
            found += [{"q": code}, {"juminhyo_code": code}, {"code": code}]
        found += [
            {"name": "鬼頭院"},
            {"kana": "キトウイン"},
            {"birth_date": "1977-07-29"},
            {"hittousha": "鬼頭院"},
            {"hittousha_kana": "キトウイン"},
            {"name": "檜垣", "birth_date": "1969-10-23"},
            {"koseki": str(kitouin.entry.koseki_id)},
            {"household": str(kitouin.resident.household_id)},
            {"person": str(kitouin.resident.pk)},
        ]
        return found


def _typed_values(query: dict[str, str]) -> list[str]:
    values = [v for v in query.values() if v]
    for value in list(values):
        try:
            values.append(to_wareki(dt.date.fromisoformat(value)))
        except ValueError:
            pass
    return sorted(values, key=len, reverse=True)


def _urls(route, scan: ScanWorld) -> list[tuple[str, dict[str, str]]]:
    """URLs to render for one route: every fixture record (then a few world records) for each argument, and for
    a route without arguments, every fixture search condition."""
    per_argument = []
    fixtures = scan.fixture_records()
    for options in argument_candidates(route, scan.world):
        if not options:
            return []
        argument = options[0][0]
        values = [r.pk for r in fixtures] if isinstance(options[0][2], int) else []
        values += [value for _, _, value in options[:WORLD_CANDIDATES]]
        per_argument.append([(argument, v) for v in dict.fromkeys(values)])
    queries = scan.queries() if not per_argument else [{}]
    urls = []
    for combo in itertools.islice(itertools.product(*per_argument), MAX_URLS_PER_ROUTE):
        try:
            base = reverse(route.key, kwargs=dict(combo) or None)
        except NoReverseMatch:
            continue
        urls += [(f"{base}?{urlencode(q)}" if q else base, q) for q in queries]
    return urls


def _admin_urls(scan: ScanWorld) -> list[tuple[str, dict[str, str]]]:
    urls = []
    fixtures = scan.fixture_records()
    for model, _ in admin.site._registry.items():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        urls.append((changelist, {}))
        for person in scan.persons.values():
            urls.append((f"{changelist}?{urlencode({'q': person.juminhyo_code})}", {"q": person.juminhyo_code}))
        for record in fixtures:
            if isinstance(record, model):
                urls.append((reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[record.pk]), {}))
    return urls


def _client(role_key: str) -> Client:
    user = user_with(f"scan-{role_key}")
    assign_role(user, ROLES[role_key], ensure_roles())
    client = Client(raise_request_exception=False)
    client.force_login(type(user).objects.get(pk=user.pk))
    return client


def _render(client: Client, url: str) -> tuple[int, str]:
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {})
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, content.decode("utf-8", errors="replace")


@pytest.mark.parametrize("role_key", list(ROLES))
def test_no_page_names_a_restricted_person(role_key):
    scan = ScanWorld()
    client = _client(role_key)
    found = []
    rendered = 0
    every_typed = sorted({t for q in scan.queries() for t in _typed_values(q)}, key=len, reverse=True)
    for route in NOT_PUBLIC:
        if route.key in RESTRICTION_MANAGEMENT:
            continue
        for url, query in _urls(route, scan):
            status, body = _render(client, url)
            rendered += 1
            for typed in every_typed if route.namespace == "audit" else _typed_values(query):
                body = body.replace(typed, "")
            hits = leaks(body, scan.persons)
            if hits:
                found.append(f"{status} {url}: {hits}")
    for url, query in _admin_urls(scan):
        status, body = _render(client, url)
        rendered += 1
        for typed in _typed_values(query):
            body = body.replace(typed, "")
        hits = leaks(body, scan.persons)
        if hits:
            found.append(f"{status} {url}: {hits}")
    assert rendered > 100
    assert found == [], "\n".join(found)


def test_the_scan_sees_a_leak():
    """The scan is not blind: the same strings are found on a page that does show the person (their own 住民票, to a
    user with a grant)."""
    from django.utils import timezone

    from audit import restrictions

    from .restricted_persons import supervisor_user

    persons = make_restricted_persons()
    client = _client("clerk")
    user = type(supervisor_user()).objects.get(username="scan-clerk")
    kitouin = persons["kitouin"]
    restrictions.grant(
        actor=supervisor_user(),
        user=user,
        reason="確認",
        expires_at=timezone.now() + dt.timedelta(days=1),
        resident=kitouin.resident,
    )
    _, body = _render(client, reverse("registry:resident", args=[kitouin.resident.pk]))
    hits = leaks(body, {"kitouin": kitouin})
    assert {h.split("=")[0] for h in hits} >= {
        "kitouin:氏",
        "kitouin:名",
        "kitouin:氏（カナ）",
        "kitouin:生年月日（和暦）",
        "kitouin:住民票コード",
    }
