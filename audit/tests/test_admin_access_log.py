"""The read-only admin shows personal data, so its pages of personal-data models write access-log entries
(audit.middleware.AdminAccessLogMiddleware); the audit models are in the admin, read-only."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from audit.models import AuditLogEntry
from common.roles import RESIDENT_CLERK, assign_role
from koseki_fuhyo.tests.factories import link_to_koseki
from registry.tests.factories import ResidentFactory

from .screens import append, entries_after, last_id, user_with

pytestmark = pytest.mark.django_db

ADMIN_LOG = "audit.middleware.AdminAccessLogMiddleware"


def test_middleware_is_installed_after_authentication():
    middleware = list(settings.MIDDLEWARE)
    assert middleware.index(ADMIN_LOG) > middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")


ADMIN_VIEW_APPS = ("registry", "koseki_fuhyo", "common", "audit", "auditlog")


@pytest.fixture
def admin_viewer():
    """A staff user who may view the registers in the admin. No role holds that any more (issue 12: the 運用担当
    sees no personal data), but the admin must still log every such page for whoever is given these permissions."""
    user = user_with("unyou", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label__in=ADMIN_VIEW_APPS, codename__startswith="view_")
    )
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def operator_client(client, admin_viewer):
    client.force_login(admin_viewer)
    return client


def test_changelist_logs_the_ids_on_the_page(operator_client):
    residents = [ResidentFactory() for _ in range(3)]
    mark = last_id()
    response = operator_client.get(reverse("admin:registry_resident_changelist"), {"status__exact": "current"})
    assert response.status_code == 200
    (entry,) = entries_after(mark)
    assert (entry.category, entry.outcome, entry.username) == ("access", "shown", "unyou")
    assert entry.action == "admin.registry.resident.changelist"
    assert entry.subject_kind == "admin:registry.resident"
    assert entry.subject_ids == sorted(r.pk for r in residents)
    assert entry.conditions == {"status__exact": "current"}
    assert entry.request_id == response["X-Request-ID"]  # the same request as the audit context's


def test_change_view_logs_the_object(operator_client):
    resident = ResidentFactory()
    fuhyo = link_to_koseki(resident)
    mark = last_id()
    assert operator_client.get(reverse("admin:registry_resident_change", args=[resident.pk])).status_code == 200
    assert operator_client.get(reverse("admin:koseki_fuhyo_fuhyoentry_change", args=[fuhyo.pk])).status_code == 200
    first, second = entries_after(mark)
    assert (first.action, first.outcome, first.subject_ids) == (
        "admin.registry.resident.change",
        "shown",
        [resident.pk],
    )
    assert (second.subject_kind, second.subject_ids) == ("admin:koseki_fuhyo.fuhyoentry", [fuhyo.pk])


def test_change_events_and_audit_models_are_logged_but_reference_tables_are_not(operator_client):
    entry = append()
    mark = last_id()
    operator_client.get(reverse("admin:common_changeevent_changelist"))
    operator_client.get(reverse("admin:audit_auditlogentry_change", args=[entry.pk]))
    operator_client.get(reverse("admin:common_municipality_changelist"))
    operator_client.get(reverse("admin:index"))
    assert [e.action for e in entries_after(mark)] == [
        "admin.common.changeevent.changelist",
        "admin.audit.auditlogentry.change",
    ]


def test_refused_and_missing_are_logged(operator_client):
    resident = ResidentFactory()
    # A clerk is not staff: the admin sends them to its login page.
    clerk = user_with("madoguchi")
    assign_role(clerk, RESIDENT_CLERK)
    clerk_client = Client()
    clerk_client.force_login(type(clerk).objects.get(pk=clerk.pk))
    mark = last_id()
    assert clerk_client.get(reverse("admin:registry_resident_change", args=[resident.pk])).status_code == 302
    # The operator may not delete: 403.
    assert operator_client.get(reverse("admin:registry_resident_delete", args=[resident.pk])).status_code == 403
    # A missing object: the admin redirects to its index.
    assert operator_client.get(reverse("admin:registry_resident_change", args=[10**9])).status_code == 302
    outcomes = [(e.username, e.outcome, e.subject_ids) for e in entries_after(mark)]
    assert outcomes == [
        ("madoguchi", "denied", [resident.pk]),
        ("unyou", "denied", [resident.pk]),
        ("unyou", "not_found", [10**9]),
    ]


def test_anonymous_admin_request_is_logged_as_denied(client):
    mark = last_id()
    assert client.get(reverse("admin:registry_resident_changelist")).status_code == 302
    (entry,) = entries_after(mark)
    assert (entry.outcome, entry.username, entry.user) == ("denied", "", None)


def test_audit_models_are_read_only_in_the_admin(operator_client):
    entry = append()
    assert operator_client.get(reverse("admin:audit_auditlogentry_changelist")).status_code == 200
    assert operator_client.get(reverse("admin:audit_auditlogentry_change", args=[entry.pk])).status_code == 200
    assert operator_client.get(reverse("admin:audit_auditlogentry_add")).status_code == 403
    assert operator_client.get(reverse("admin:audit_auditlogentry_delete", args=[entry.pk])).status_code == 403
    for name in ("accessrestriction", "accessgrant", "auditchainhead"):
        assert operator_client.get(reverse(f"admin:audit_{name}_changelist")).status_code == 200
        assert operator_client.get(reverse(f"admin:audit_{name}_add")).status_code == 403
    assert AuditLogEntry.objects.filter(pk=entry.pk).exists()
