"""Hostile input through the real URLs: every screen of the URL walk (audit/tests/test_url_walk.py: 異動, 届出, the
notice actions, 閲覧制限・個別許可, the exports, the accounts …), signed in with a role that may use it, gets
generated POSTs (and GETs) built from the fields its page shows plus the entry screens' step, token and entry key:

- the answer is never a server error (the test client raises a view's exception; a 5xx fails too);
- a refused input (anything but a redirect) changes nothing: the row counts of every table of the project's apps,
  django-auditlog's change history and the outbox are the same before and after (fuzz_support.BOOKKEEPING names
  the rows a request writes whatever its outcome: the access log, edit locks, sessions).

A new URL is covered without editing this file. The public ones (login, logout, health check, the inbound
endpoint) are not: the inbound endpoint has its own fuzzing (transfers/tests/test_fuzz_inbound.py).
"""

from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from audit.gate import gate_of
from audit.tests.screens import user_with
from audit.tests.test_url_walk import PUBLIC, ROUTES, World, find_arguments, route_url
from common.roles import ROLES, SUPERVISOR, assign_role, ensure_roles

from .fuzz_support import FUZZ_REQUESTS, changed, form_data, row_counts, snapshot_models

pytestmark = pytest.mark.django_db


def _one_per_view(routes):
    """The 届出 kinds that share a screen share its view function (the kind only changes labels and defaults):
    one route of each view is enough."""
    seen, out = set(), []
    for route in routes:
        if route.callback not in seen:
            seen.add(route.callback)
            out.append(route)
    return out


FUZZED = _one_per_view([r for r in ROUTES if r.key not in PUBLIC])
STEPS = ["confirm", "record", "back", "cancel", "form"]  # the steps of the 確認 flows, and what is not one


class _Fields(HTMLParser):
    """Names of a page's form fields, with the values its radio buttons, check boxes and options offer."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.choices: dict[str, list[str]] = {}
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag in ("input", "textarea", "select") and name and name != "csrfmiddlewaretoken":
            self.names.append(name)
            if tag == "select":
                self._select = name
            elif attributes.get("type") in ("radio", "checkbox") and attributes.get("value") is not None:
                self.choices.setdefault(name, []).append(attributes["value"])
        elif tag == "option" and self._select and attributes.get("value"):
            self.choices.setdefault(self._select, []).append(attributes["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def page_fields(response) -> tuple[list[str], dict[str, list[str]]]:
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return [], {}
    parser = _Fields()
    parser.feed(response.content.decode("utf-8", "replace"))
    return list(dict.fromkeys(parser.names)), parser.choices


def _role_permissions() -> dict[str, set[str]]:
    groups = ensure_roles()
    return {
        key: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        for key, group in groups.items()
    }


def user_for(route):
    """The first role (窓口, 戸籍, 監督者, 運用担当) holding what the view declares; 監督者 for the ungated account
    screens (accounts.manage_users); a user with exactly the declared permissions if no role holds them."""
    gate = gate_of(route.callback)
    declared = set(gate.permissions) if gate else set()
    held = _role_permissions()
    role = next((r for r in ROLES if declared <= held[r.key]), None) if declared else SUPERVISOR
    if role is None:
        return user_with("fuzz-user", *declared)
    user = user_with(f"fuzz-{role.key}")
    assign_role(user, role, ensure_roles())
    return type(user).objects.get(pk=user.pk)


@pytest.mark.parametrize("route", FUZZED, ids=str)
def test_hostile_input_is_refused_and_changes_nothing(route, frozen_today):
    world = World()
    client = Client()
    client.force_login(user_for(route))
    if dict(route.kwargs).keys() == {"user_id", "action"}:  # a staff account: not in the URL walk's world
        from accounts.views import ACTIONS

        target = user_with("fuzz-target")
        urls = [route_url(route, {"user_id": target.pk, "action": a}) for a in ACTIONS]
    elif dict(route.kwargs).keys() == {"user_id"}:  # the same (an object id of the world names a user by chance only)
        urls = [route_url(route, {"user_id": user_with("fuzz-target").pk})]
    else:
        urls = [route_url(route, find_arguments(route, world, client)[0])]
    _fuzz(route, client, urls)


def _fuzz(route, client: Client, urls: list[str]) -> None:
    url = urls[0]
    fields, choices = page_fields(client.get(url))
    models = snapshot_models()
    strategy = form_data(fields, extra_keys=("step", "token", "entry_key"), choices={**choices, "step": STEPS})

    @FUZZ_REQUESTS
    @given(data=strategy, method=st.sampled_from(["POST", "POST", "GET"]), url=st.sampled_from(urls))
    def check(data, method, url):
        before = row_counts(models)
        response = client.post(url, data) if method == "POST" else client.get(url.split("?")[0], data)
        assert response.status_code < 500, f"{route.key}: {method} answered {response.status_code}"
        if response.status_code != 302:
            assert changed(before, row_counts(models)) == {}, f"{route.key}: a refused {method} changed rows"

    check()


def test_the_fuzzed_screens_include_every_entry_screen():
    keys = {r.key for r in FUZZED}
    assert {"registry_changes:move_in", "koseki_filings:marriage", "notices:resolve", "audit:grant"} <= keys
    assert {"audit:export_records", "accounts:user_create", "accounts:user_action"} <= keys
    assert Permission.objects.exists()  # the roles are derived from the migrated permissions
