"""Every changelist of the Django admin, with hostile values in every parameter it reads (each filter's own
parameters, the search, the ordering, the page, the date hierarchy) and in lookups it does not know: never a 5xx
(issue 12, finding 10: `/admin/registry/resident/?status__exact=%00` was a 500 on PostgreSQL, `?pk__in=<huge>` one on
every database). What the admin cannot use is a Japanese 400 page, logged like every admin page."""

import pytest
from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import reverse

from audit.models import AuditLogEntry
from koseki_fuhyo.tests.factories import link_to_koseki
from registry.tests.change_screens import family

pytestmark = pytest.mark.django_db

HOSTILE = (
    "a\x00b",  # PostgreSQL refuses NUL in text
    "x" * 5_000,
    "abc',--",  # not a number, not a choice, a quote
    "99999999999999999999999",  # beyond every integer column and every year
    "1,-1,x",  # a list for __in
    "\U0001f4a5",
)
UNKNOWN_LOOKUPS = ("nosuchfield", "pk__in", "id__gt", "_to_field")
CHANGELISTS = sorted((f"{model._meta.app_label}.{model._meta.model_name}", model) for model in admin.site._registry)


def _parameters(model_admin: admin.ModelAdmin, user) -> list[str]:
    """What the changelist reads: its filters' own parameters, as the admin builds them, and the fixed ones."""
    request = RequestFactory().get("/")
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    names = [name for spec in changelist.filter_specs for name in spec.expected_parameters()]
    names += [SEARCH_VAR, ORDER_VAR, PAGE_VAR]
    if model_admin.date_hierarchy:
        names += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    return [*dict.fromkeys(names), *UNKNOWN_LOOKUPS]


@pytest.fixture
def superuser_client():
    """The admin as the user who may open every changelist (the operator sees a subset of them)."""
    user = get_user_model().objects.create_superuser("kanri", password="x-for-tests-only")
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client, user


@pytest.fixture
def rows():
    """A few rows in most tables (a family, its 戸籍 and 附票, their change events and history), so that the list
    filters offer choices and the pages have rows to count."""
    head, wife, child = family()
    link_to_koseki(head)


@pytest.mark.slow
@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize(("label", "model"), CHANGELISTS, ids=[label for label, _ in CHANGELISTS])
def test_no_changelist_answers_5xx_to_hostile_parameters(superuser_client, label, model):
    client, user = superuser_client
    model_admin = admin.site._registry[model]
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    names = _parameters(model_admin, user)
    failures = []
    for name in names:
        for value in HOSTILE:
            status = client.get(url, {name: value}).status_code
            if status >= 500:
                failures.append(f"?{name}={value[:20]!r}: {status}")
    if client.get(url, dict.fromkeys(names, "\x00")).status_code >= 500:
        failures.append("every parameter NUL")
    assert failures == []


@pytest.mark.usefixtures("rows")
def test_a_nul_in_an_admin_parameter_is_refused_in_japanese_and_logged(superuser_client):
    client, _ = superuser_client
    mark = AuditLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = client.get(reverse("admin:registry_resident_changelist"), {"status__exact": "\x00"})
    assert response.status_code == 400
    assert "使えない文字" in response.content.decode()
    entry = AuditLogEntry.objects.filter(pk__gt=mark).get()
    assert (entry.action, entry.outcome) == ("admin.registry.resident.changelist", "denied")


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize(
    ("changelist", "query"),
    [
        ("admin:registry_resident_changelist", {"pk__in": "99999999999999999999999"}),
        ("admin:common_changeevent_changelist", {"occurred_at__year": "99999999999999999999999"}),
        ("admin:koseki_fuhyo_kosekifiling_changelist", {"filed_on__year": "99999999999999999999999"}),
    ],
)
def test_values_beyond_range_are_never_a_500(superuser_client, changelist, query):
    """SQLite cannot bind the integer, Python cannot make the year: a 400. (PostgreSQL drops an out-of-range value
    of pk__in by itself: an empty list, 200.)"""
    client, _ = superuser_client
    response = client.get(reverse(changelist), query)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "範囲を超える値" in response.content.decode()
