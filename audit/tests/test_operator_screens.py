"""The 運用担当 opens no personal-data screen (issue 12, finding 6): walked over every gated URL of the project, the
operator is refused — 403 and exactly one `denied` access entry — except on the few operations pages named below,
which show no person at all. The Django admin opens for the operator, but none of its personal-data models."""

import pytest
from django.test import Client
from django.urls import reverse

from audit.gate import gate_of
from audit.models import AuditLogEntry

from .screens import entries_after
from .test_url_walk import GATED, World, answer_for, argument_candidates, route_url

pytestmark = pytest.mark.django_db

# Gated pages that the operator opens, each with why it holds no personal data. Keep this as short as it is: the
# README's 「画面と権限」 names the same pages for 運用担当 (common/tests/test_readme_roles.py).
OPERATOR_SCREENS = {
    "notices:partners": "通信相手: municipalities, transport, key fingerprints, failure counts — no person",
    "audit:batch_runs": "バッチの実行記録: commands, times, exit codes, counts and summary lines — no person",
}
PERSON_KINDS = {"resident", "fuhyo_entry", "koseki", "person", "notice", "audit_log", "handover", "erasure"}


@pytest.fixture
def world():
    return World()


def test_the_allowlist_names_gated_pages_without_persons():
    keys = {route.key: route for route in GATED}
    for key in OPERATOR_SCREENS:
        assert key in keys, f"{key} is not a gated page"
        assert gate_of(keys[key].callback).subject_kind not in PERSON_KINDS, key


@pytest.mark.parametrize("route", GATED, ids=str)
def test_the_operator_is_refused_every_personal_data_screen(route, world, operator):
    client = Client()
    client.force_login(operator)
    kwargs = {a: v for a, _, v in (options[0] for options in argument_candidates(route, world))}
    answer = answer_for(client, route_url(route, kwargs))
    if route.key in OPERATOR_SCREENS:
        assert answer.status == 200, f"{route.key}: the operator's own page answered {answer.status}"
        return
    assert answer.status == 403, f"{route.key}: the operator's {answer.method} answered {answer.status}"
    entries = entries_after(answer.mark)
    assert [(e.category, e.outcome, e.username) for e in entries] == [
        (AuditLogEntry.Category.ACCESS, AuditLogEntry.Outcome.DENIED, operator.username)
    ], f"{route.key}: expected exactly one denied entry, got {[(e.category, e.action, e.outcome) for e in entries]}"


ADMIN_PERSONAL_DATA = (
    "admin:registry_resident_changelist",
    "admin:registry_household_changelist",
    "admin:koseki_fuhyo_koseki_changelist",
    "admin:koseki_fuhyo_fuhyoentry_changelist",
    "admin:audit_auditlogentry_changelist",
    "admin:audit_accessrestriction_changelist",
    "admin:audit_accessgrant_changelist",
    "admin:transfers_outboundnotice_changelist",
)


def test_the_operator_opens_the_admin_for_accounts_but_no_personal_data(operator):
    client = Client()
    client.force_login(operator)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200
    for name in ADMIN_PERSONAL_DATA:
        assert client.get(reverse(name)).status_code == 403, name
    # The change history (django-auditlog) has no admin at all: /audit/review/ shows it, through the gate.
    assert client.get("/admin/auditlog/logentry/").status_code == 404
