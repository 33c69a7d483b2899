"""THE URL walk (acceptance of issue 3): every URL pattern of config.urls, found by expanding every include, is
either public (login, logout, health check), or a page without personal data named below with its reason, or
behind the gate (`audit.gate.personal_data_view`). A new view that is none of these fails here.

For every view that is not public, an anonymous request is sent to the login page. For every gated view (NetBox's
ViewTestCases matrix, driven by the walk so that no view can escape it):

- a user holding every permission except the ones the view declares gets 403 (or 404) and exactly one new audit
  entry, `denied`;
- a user holding exactly the declared permissions gets 200 (a POST-only view: an empty POST, 200 or 400 with the
  errors) and exactly one new access entry, `shown` (permission events such as `use` are separate);
- when the URL names a person's record (住民票 or 附票 row), restricting that person makes the record answer 404
  with a `denied` entry for the same user.

URL arguments are built from a small world of dummy records (a 世帯 with two residents, a 戸籍 with their 附票 rows,
a 戸籍届出, an audit entry, a 閲覧制限 and a grant) by the argument's name; where a name is ambiguous (`pk`, `kind`)
the candidates are tried in turn and the first one the view knows (not 404) is used. The admin (`admin/`) is covered
by test_admin_access_log.py; static files are served by WhiteNoise, not by URL patterns.
"""

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse
from django.urls.resolvers import RegexPattern, RoutePattern
from django.views.decorators.http import require_POST

from audit import restrictions
from audit.gate import gate_of, personal_data_view
from audit.models import AuditLogEntry
from common.testing.actors import acting_as

from .screens import PASSWORD, append, entries_after, last_id, user_with

pytestmark = pytest.mark.django_db

# Pages anyone may open, signed in or not.
PUBLIC = {
    "login": "the login page",
    "logout": "ends the session",
    "health": "load balancer check: answers ok / database unavailable, no data",
    "favicon": "redirects browsers' /favicon.ico to the icon among the static files",
    # Machines, not people: partners POST signed envelopes (the signature is the login); the answer is a signed
    # ack or an error code, never personal data.
    "transfers:inbound": "the receiving end of the notices (transfers.inbound): envelopes in, acks out",
    "accounts:password_reset": "the holder of an approved reset sets a new password with their own authenticator",
}

# Pages for signed-in staff that show no personal data and so need no gate. Each with the reason; a new entry here
# deserves the same scrutiny as a new gate.
NO_PERSONAL_DATA = {
    "home": "the start page: the menu of screens the user may open, no record",
    "registry_changes:menu": "the list of 異動 kinds; each kind's screen is gated",
    "koseki_filings:menu": "the list of 届出 kinds; each kind's screen is gated",
    # Staff accounts (accounts app): the user's own password and second factor, and the supervisor's management of
    # staff accounts (accounts.manage_users) — staff ids, names and roles, no resident's data. Every change there
    # writes its own `account` entry.
    "accounts:home": "the user's own account page: id, second-factor state, links",
    "accounts:password_change": "the user's own password change",
    "accounts:otp": "the user's own authenticator enrolment (QR code of their own secret)",
    "accounts:otp_verify": "the second step of the login: a code",
    "accounts:users": "staff accounts and locked ids (accounts.manage_users)",
    "accounts:user_create": "creates a staff account (accounts.manage_users)",
    "accounts:user_detail": "one staff account (accounts.manage_users)",
    "accounts:user_action": "one action on a staff account through a 確認 page (accounts.manage_users)",
    "accounts:lock_lift": "lifts the lock of a staff id (accounts.manage_users)",
}

# Gated views whose answer to a permitted user is a redirect, not a page, with the reason.
REDIRECTS = {
    "registry_changes:find": "finds the 世帯 or 住民票 the clerk typed and opens its 異動 screen",
    "audit:run_analysis": "runs the analysis now and shows its findings on the flags page (POST, then redirect)",
}

SKIPPED_PREFIXES = ("admin/", "static/", "media/", "__debug__/")


# --- The walk ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name" (or the route when a pattern has no name)
    route: str  # the whole pattern, e.g. "residents/<int:resident_id>/"
    name: str | None
    namespace: str
    callback: Callable
    kwargs: tuple[tuple[str, str], ...]  # (name, converter kind: "int", "str", "slug", "uuid", "path", "regex")

    def __str__(self) -> str:
        return self.key


def _converter_kind(converter) -> str:
    name = type(converter).__name__.lower()
    for kind in ("int", "slug", "uuid", "path", "str"):
        if name.startswith(kind):
            return kind
    return "str"


def _pattern_kwargs(pattern) -> list[tuple[str, str]]:
    if isinstance(pattern, RoutePattern):
        return [(name, _converter_kind(conv)) for name, conv in pattern.converters.items()]
    if isinstance(pattern, RegexPattern):
        return [(name, "regex") for name in pattern.regex.groupindex]
    return []


def walk(patterns=None, prefix: str = "", namespace: str = "", kwargs: tuple = ()) -> Iterator[Route]:
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
        if route.startswith(SKIPPED_PREFIXES):
            continue
        found = (*kwargs, *_pattern_kwargs(pattern.pattern))
        if isinstance(pattern, URLResolver):
            inner = ":".join(p for p in (namespace, pattern.namespace) if p)
            yield from walk(pattern.url_patterns, route, inner, found)
        elif isinstance(pattern, URLPattern):
            name = pattern.name
            key = (f"{namespace}:{name}" if namespace else name) if name else route
            yield Route(key, route, name, namespace, pattern.callback, found)


ROUTES = list(walk())
GATED = [r for r in ROUTES if gate_of(r.callback) is not None]
NOT_PUBLIC = [r for r in ROUTES if r.key not in PUBLIC]


# --- Classification --------------------------------------------------------------------------------------------


def test_the_walk_expands_includes():
    keys = {r.key for r in ROUTES}
    assert {"login", "health", "audit:log", "audit:restrictions"} <= keys
    assert not any(r.route.startswith("admin/") for r in ROUTES)


def unclassified(routes: list[Route]) -> list[str]:
    allowed = PUBLIC.keys() | NO_PERSONAL_DATA.keys()
    return [f"{r.key} ({r.route})" for r in routes if gate_of(r.callback) is None and r.key not in allowed]


def test_every_view_is_public_gated_or_declared_free_of_personal_data():
    ungated = unclassified(ROUTES)
    assert not ungated, (
        "these views show no gate: declare them with audit.gate.personal_data_view, or — only if they show no "
        f"personal data at all — list them in NO_PERSONAL_DATA with the reason: {ungated}"
    )


def _leaky_view(request):
    return HttpResponse("山田　太郎")


@personal_data_view("registry.view_resident", subject_kind="resident", action="tests.gated_view", label="試験")
def _gated_view(request, access, resident_id):
    return HttpResponse("")


def test_the_walk_catches_a_new_ungated_view_inside_an_include():
    fake = [
        path(
            "new/",
            include(
                (
                    [
                        path("<int:resident_id>/", _gated_view, name="fine"),
                        path("<int:resident_id>/print/", _leaky_view, name="leak"),
                    ],
                    "newapp",
                )
            ),
        )
    ]
    routes = list(walk(fake))
    assert [(r.key, r.kwargs) for r in routes] == [
        ("newapp:fine", (("resident_id", "int"),)),
        ("newapp:leak", (("resident_id", "int"),)),
    ]
    assert unclassified(routes) == ["newapp:leak (new/<int:resident_id>/print/)"]


@personal_data_view("registry.view_resident", subject_kind="resident", action="tests.post_only", label="試験")
@require_POST
def _post_only_view(request, access):
    return HttpResponse("", status=400)  # an empty POST: the form's errors


urlpatterns = [path("post-only/", _post_only_view, name="post_only")]  # ROOT_URLCONF of the next test only


@override_settings(ROOT_URLCONF=__name__)
def test_a_post_only_view_is_asked_with_an_empty_post():
    client = client_as(user_with("poster", "registry.view_resident"))
    answer = answer_for(client, reverse("post_only"))
    assert (answer.method, answer.status) == ("POST", 400)
    assert [e.outcome for e in entries_after(answer.mark)] == ["shown"]


def test_every_view_has_a_url_name():
    assert [r.route for r in ROUTES if not r.name] == [], "name every URL pattern (the menu and this walk use names)"


def test_allowlists_name_existing_ungated_views():
    keys = {r.key: r for r in ROUTES}
    stale = [k for k in PUBLIC | NO_PERSONAL_DATA.keys() if k not in keys]
    assert not stale, f"remove from the allowlists (no such URL any more): {stale}"
    gated = [k for k in PUBLIC | NO_PERSONAL_DATA.keys() if gate_of(keys[k].callback) is not None]
    assert not gated, f"these are gated now; remove them from the allowlists: {gated}"
    assert [k for k in REDIRECTS if k not in keys or gate_of(keys[k].callback) is None] == []


def test_every_gated_view_declares_a_permission():
    assert [r.key for r in GATED if not gate_of(r.callback).permissions] == []


# --- A small world of records ----------------------------------------------------------------------------------


RESERVED_IDS = {"resident": 710_001, "household": 720_001, "koseki": 730_001}


class World:
    """Dummy records the URL arguments point to, built once per test."""

    def __init__(self) -> None:
        from koseki_fuhyo.tests.factories import KosekiFactory, link_to_koseki
        from registry.tests.factories import HouseholdFactory, ResidentFactory

        # Ids far apart per table, so that a view given the id of the wrong kind of record answers 404 (and the
        # walk does not mistake, say, a 戸籍 page for a 住民票 page because both rows happen to be #1).
        self.supervisor = user_with("walk-supervisor")
        household = HouseholdFactory(id=RESERVED_IDS["household"])
        self.resident = ResidentFactory(id=RESERVED_IDS["resident"], household=household)
        self.member = ResidentFactory(
            id=RESERVED_IDS["resident"] + 1,
            household=household,
            relationship="妻",
            given_name="花子",
            given_name_kana="ハナコ",
            sex="2",
        )
        koseki = KosekiFactory(id=RESERVED_IDS["koseki"], hittousha_surname="山田", hittousha_given_name="太郎")
        self.fuhyo_entry = link_to_koseki(self.resident, koseki)
        link_to_koseki(self.member, koseki)
        self.resident.refresh_from_db()
        self.household = self.resident.household
        self.koseki = self.fuhyo_entry.koseki
        self.filing = self._filing()
        self.log_entry = append(username="walk-clerk", subject_ids=[self.resident.pk])
        # A second person, restricted, with a grant to another clerk: the targets of the supervisor's screens.
        self.restricted = ResidentFactory(id=RESERVED_IDS["resident"] + 2, surname="高橋", surname_kana="タカハシ")
        self.restriction = restrictions.restrict(
            actor=self.supervisor,
            kind="dv_support",
            reason="支援措置",
            starts_on=dt.date(2026, 11, 1),
            resident=self.restricted,
        )
        self.grant = restrictions.grant(
            actor=self.supervisor,
            user=user_with("walk-granted"),
            reason="審査",
            expires_at=_now() + dt.timedelta(days=7),
            resident=self.restricted,
        )
        self.restricted.refresh_from_db()
        self.outbound_notice, self.inbound_notice = self._notices()
        self.batch_records = self._batch_records()
        self.handover = self._handover()
        self.analysis_flag = self._analysis_flag()
        self.approval = self._approval()

    def _approval(self):
        """A grant request waiting for a second supervisor (the approval screens)."""
        from accounts import approvals

        return approvals.request_grant(
            actor=self.supervisor,
            user=user_with("walk-requested"),
            reason="審査",
            expires_at=_now() + dt.timedelta(days=7),
            resident=self.restricted,
        )

    def _analysis_flag(self):
        from audit.models import AnalysisFlag

        return AnalysisFlag.objects.create(
            analysed_on=dt.date(2026, 11, 25), kind="after_hours", username="walk-clerk", count=2
        )

    def _handover(self):
        """A 管理簿 entry of a records export by the supervisor (its file is not on disk: the download page says so)."""
        from audit.models import HandoverRecord

        return HandoverRecord.objects.create(
            kind=HandoverRecord.Kind.RECORDS_CSV,
            handler=self.supervisor,
            handler_name=self.supervisor.username,
            purpose="URL walk",
            content="住民票の記載事項（住民票コード 1件の指定、現存）",
            row_count=1,
            file_name="records-csv-20261125-120000-0a1b2c3d.zip",
            file_digest="0" * 64,
        )

    def _batch_records(self) -> dict[str, Any]:
        """The nightly batch's records: a purge run with its erasure record, and a 住民票・附票 不一致 task."""
        from audit.models import BatchRun, ErasureRecord
        from registry.models import RegisterDiscrepancy

        run = BatchRun.objects.create(command="purge_expired", source="command", status="succeeded", exit_code=0)
        erasure = ErasureRecord.objects.create(
            run=run, target="通知の内容", rule="5年", cutoff=dt.date(2021, 11, 25), count=1, digest="0" * 64
        )
        discrepancy = RegisterDiscrepancy.objects.create(
            juminhyo_code=self.resident.juminhyo_code,
            resident=self.resident,
            fuhyo_entry=self.fuhyo_entry,
            differences=["名（カナ）が附票と一致しません"],
            found_on=dt.date(2026, 11, 25),
        )
        return {"batch_run": run, "erasure": erasure, "discrepancy": discrepancy}

    def _notices(self):
        """A notice sent about the resident and one received about them (waiting for a clerk)."""
        import uuid

        from transfers.models import InboundNotice, OutboundNotice

        outbound = OutboundNotice.objects.create(
            kind="fuhyo_items", receiver="131130", payload={"person": {"surname": "山田"}}
        )
        inbound = InboundNotice.objects.create(
            message_id=uuid.uuid4(),
            sender="131130",
            kind="fuhyo_items",
            schema_version=1,
            payload={"person": {"surname": "山田"}},
            payload_digest="0" * 64,
            sent_at=_now(),
            via="http",
            juminhyo_code=self.resident.juminhyo_code,
            resident=self.resident,
            state="waiting",
        )
        return outbound, inbound

    def _filing(self):
        from koseki_fuhyo.choices import FilingKind
        from koseki_fuhyo.services import filings

        with acting_as(self.supervisor):
            result = filings.file_record_only(
                FilingKind.RECOGNITION,
                filings.FilingHeader(filed_on=dt.date(2026, 11, 20)),
                [filings.FiledPerson(entry=self.fuhyo_entry)],
            )
        return result.filing

    def objects(self) -> dict[str, Any]:
        from common.models import ChangeEvent
        from registry.models import ResidentChange

        found = {
            "resident": self.resident,
            "household": self.household,
            "koseki": self.koseki,
            "fuhyo_entry": self.fuhyo_entry,
            "filing": self.filing,
            "member": self.member,
            "log_entry": self.log_entry,
            "restriction": self.restriction,
            "grant": self.grant,
            "resident_change": ResidentChange.objects.order_by("pk").first(),
            "change_event": ChangeEvent.objects.order_by("pk").first(),
            "outbound_notice": self.outbound_notice,
            "inbound_notice": self.inbound_notice,
            **self.batch_records,
            "handover": self.handover,
            "analysis_flag": self.analysis_flag,
            "approval": self.approval,
        }
        return {name: obj for name, obj in found.items() if obj is not None}


def _now():
    from django.utils import timezone

    return timezone.now()


# Which record an argument names, by the argument's name (first candidates first).
ARGUMENT_OBJECTS: dict[str, tuple[str, ...]] = {
    "resident_id": ("resident",),
    "resident_pk": ("resident",),
    "person_id": ("resident", "fuhyo_entry"),
    "member_id": ("member", "resident"),
    "household_id": ("household",),
    "household_pk": ("household",),
    "koseki_id": ("koseki",),
    "koseki_pk": ("koseki",),
    "fuhyo_entry_id": ("fuhyo_entry",),
    "fuhyoentry_id": ("fuhyo_entry",),
    "entry_id": ("fuhyo_entry", "log_entry"),
    "filing_id": ("filing",),
    "filing_pk": ("filing",),
    "change_id": ("resident_change", "change_event"),
    "resident_change_id": ("resident_change",),
    "event_id": ("change_event",),
    "change_event_id": ("change_event",),
    "log_entry_id": ("log_entry",),
    "restriction_id": ("restriction",),
    "grant_id": ("grant",),
    "notice_id": ("outbound_notice",),
    "inbound_id": ("inbound_notice",),
    "discrepancy_id": ("discrepancy",),
    "run_id": ("batch_run",),
    "erasure_id": ("erasure",),
    "handover_id": ("handover",),
    "flag_id": ("analysis_flag",),
    "approval_id": ("approval",),
}
# Words in a URL's name or namespace that tell what its `pk` is.
NAME_HINTS = (
    ("household", "household"),
    ("setai", "household"),
    ("filing", "filing"),
    ("koseki", "koseki"),
    ("fuhyo", "fuhyo_entry"),
    ("entry", "fuhyo_entry"),
    ("event", "change_event"),
    ("change", "resident_change"),
    ("restriction", "restriction"),
    ("grant", "grant"),
    ("log", "log_entry"),
    ("resident", "resident"),
    ("registry", "resident"),
)
PERSON_OBJECTS = ("resident", "member", "fuhyo_entry")


def _object_candidates(route: Route, argument: str, objects: dict[str, Any]) -> list[str]:
    names = list(ARGUMENT_OBJECTS.get(argument, ()))
    if not names:  # the URL's own name first, then its namespace
        for words in ((route.name or "").lower(), route.namespace.lower()):
            names += [obj for word, obj in NAME_HINTS if word in words]
    names += [n for n in objects if n not in names]  # then everything else, in case the name misleads
    return [n for n in dict.fromkeys(names) if n in objects]


def _text_candidates(route: Route, argument: str, world: World) -> list[tuple[str, Any]]:
    from audit.models import AccessRestriction
    from koseki_fuhyo.choices import FilingKind
    from registry.choices import ChangeReason

    if argument in ("juminhyo_code", "code"):
        return [("juminhyo_code", world.resident.juminhyo_code)]
    if argument in ("number", "household_number", "setai_number"):
        return [("household_number", world.household.number)]
    if argument in ("change_group", "group"):
        return [("change_group", world.filing.change_group)]
    # `kind` and other words: a URL name of the same family (many screens are chosen by their view name), then the
    # code lists of 異動事由, 届出事件 and 閲覧制限.
    siblings = [r.name for r in ROUTES if r.namespace == route.namespace and r.name]
    values = [*siblings, *ChangeReason.values, *FilingKind.values, *AccessRestriction.Kind.values]
    return [("text", v) for v in dict.fromkeys(values)]


def argument_candidates(route: Route, world: World) -> list[list[tuple[str, str, Any]]]:
    """Per argument: [(argument, what it names, value)] in the order to try."""
    objects = world.objects()
    per_argument = []
    for argument, kind in route.kwargs:
        if kind == "int" or (kind == "regex" and argument.endswith(("id", "pk"))):
            options = [(argument, name, objects[name].pk) for name in _object_candidates(route, argument, objects)]
        elif kind == "uuid":
            options = [(argument, "change_group", world.filing.change_group)]
        else:
            options = [(argument, what, value) for what, value in _text_candidates(route, argument, world)]
        per_argument.append(options)
    return per_argument


MAX_COMBINATIONS = 300  # tries per view; a view with more unknowns needs an entry in ARGUMENT_OBJECTS


def _queries(world: World) -> list[dict[str, str]]:
    """Query strings to try after none: a view that finds a record from what the clerk typed (`?q=`) may answer
    404 until it is given something to find."""
    return [{}, {"q": world.resident.juminhyo_code}, {"q": world.household.number}]


def _combinations(route: Route, world: World) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    per_argument = [*argument_candidates(route, world), [("?", "query", q) for q in _queries(world)]]
    for combo in itertools.islice(itertools.product(*per_argument), MAX_COMBINATIONS):
        yield {a: v for a, _, v in combo}, {a: what for a, what, _ in combo if a != "?"}


def route_url(route: Route, kwargs: dict[str, Any]) -> str:
    kwargs = dict(kwargs)
    query = kwargs.pop("?", None)
    url = reverse(route.key, kwargs=kwargs or None)
    return f"{url}?{urlencode(query)}" if query else url


# --- Requests --------------------------------------------------------------------------------------------------


@dataclass
class Answer:
    method: str
    status: int
    response: Any
    mark: int  # the last audit entry before the request that gave this answer


def answer_for(client: Client, url: str) -> Answer:
    """GET; a view that refuses GET (405) is asked with an empty POST instead (the GET's own entry, if the gate
    wrote one before the view refused the method, is before `mark`)."""
    mark = last_id()
    response = client.get(url)
    if response.status_code == 405:
        mark = last_id()
        return Answer("POST", (post := client.post(url, {})).status_code, post, mark)
    return Answer("GET", response.status_code, response, mark)


def permitted_user(route: Route):
    declared = gate_of(route.callback).permissions
    for name in declared:
        app_label, codename = name.split(".", 1)
        assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists(), (
            f"{route.key} declares {name}, which does not exist"
        )
    return user_with("walk-permitted", *declared)


def _user_without(route: Route):
    """Every permission of the project except the ones the view declares: proves the gate checks exactly those."""
    declared = {tuple(name.split(".", 1)) for name in gate_of(route.callback).permissions}
    user = get_user_model().objects.create_user(username="walk-refused", password=PASSWORD)
    others = [
        p.pk
        for p in Permission.objects.select_related("content_type")
        if (p.content_type.app_label, p.codename) not in declared
    ]
    user.user_permissions.add(*others)
    return get_user_model().objects.get(pk=user.pk)


def client_as(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def find_arguments(route: Route, world: World, client: Client) -> tuple[dict[str, Any], dict[str, str]]:
    """The first combination of arguments the view knows (answers neither 404 nor an error)."""
    tried = []
    for kwargs, names in _combinations(route, world):
        try:
            answer = answer_for(client, route_url(route, kwargs))
        except Exception as exc:  # noqa: BLE001 - a wrong candidate may make the view fail; try the next
            tried.append(f"{names}: {type(exc).__name__}: {exc}")
            continue
        if answer.status != 404:
            return kwargs, names
        tried.append(f"{names}: 404")
    pytest.fail(
        f"{route.key}: no argument values found that the view accepts; add the argument to ARGUMENT_OBJECTS. "
        f"Tried: {tried[:10]}"
    )


@pytest.fixture
def world():
    return World()


def _login_url() -> str:
    return reverse("login")


@pytest.mark.parametrize("route", NOT_PUBLIC, ids=str)
def test_anonymous_is_sent_to_login(route, world):
    kwargs = {a: v for a, _, v in (options[0] for options in argument_candidates(route, world))}
    url = route_url(route, kwargs)
    answer = answer_for(client_as(), url)
    assert answer.status == 302, f"{route.key}: anonymous {answer.method} answered {answer.status}"
    assert answer.response["Location"].startswith(_login_url()), answer.response["Location"]


@pytest.mark.parametrize("route", GATED, ids=str)
def test_without_the_permission_refused_and_logged(route, world):
    user = _user_without(route)
    kwargs, _ = find_arguments(route, world, client_as(permitted_user(route)))
    client = client_as(user)
    answer = answer_for(client, route_url(route, kwargs))
    assert answer.status in (403, 404), (
        f"{route.key}: {answer.method} by a user without the permission: {answer.status}"
    )
    entries = entries_after(answer.mark)
    assert [(e.category, e.outcome, e.username) for e in entries] == [("access", "denied", user.username)], (
        f"{route.key}: expected exactly one denied entry, got {[(e.category, e.action, e.outcome) for e in entries]}"
    )


@pytest.mark.parametrize("route", GATED, ids=str)
def test_with_the_permission_shown_and_logged(route, world):
    user = permitted_user(route)
    client = client_as(user)
    kwargs, _ = find_arguments(route, world, client)
    url = route_url(route, kwargs)
    answer = answer_for(client, url)
    expected = (200,) if answer.method == "GET" else (200, 400)
    if route.key in REDIRECTS:
        expected = (302,)
    assert answer.status in expected, f"{route.key}: {answer.method} {url} by a permitted user answered {answer.status}"
    access = entries_after(answer.mark, category=AuditLogEntry.Category.ACCESS)
    assert [(e.outcome, e.username, e.path) for e in access] == [("shown", user.username, url.split("?")[0])], (
        f"{route.key}: expected exactly one shown access entry, got {[(e.action, e.outcome) for e in access]}"
    )
    assert access[0].action == gate_of(route.callback).action


PERSON_ROUTES = [r for r in GATED if r.kwargs]


@pytest.mark.parametrize("route", PERSON_ROUTES, ids=str)
def test_restricted_person_answers_404(route, world):
    """Where the URL names a 住民票 or 附票 row, restricting that person hides the record: 404 and `denied`."""
    user = permitted_user(route)
    client = client_as(user)
    kwargs, names = find_arguments(route, world, client)
    persons = [a for a, what in names.items() if what in PERSON_OBJECTS]
    if not persons:
        pytest.skip(f"{route.key} names no person's record")
    target = world.objects()[names[persons[0]]]
    restrictions.restrict(
        actor=world.supervisor,
        kind="supervisor",
        reason="URL walk",
        starts_on=dt.date(2026, 11, 1),
        **_person_kw(target),
    )
    answer = answer_for(client, route_url(route, kwargs))
    assert answer.status == 404, f"{route.key}: a restricted person's record answered {answer.status}"
    outcomes = [(e.outcome, e.subject_ids) for e in entries_after(answer.mark, category=AuditLogEntry.Category.ACCESS)]
    assert outcomes == [("denied", [target.pk])], f"{route.key}: {outcomes}"


def _person_kw(record) -> dict[str, Any]:
    return {"resident": record} if record._meta.model_name == "resident" else {"fuhyo_entry": record}
