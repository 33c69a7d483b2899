"""The Django admin shows the registers to operators but never changes them."""

from uuid import uuid4

import pytest
from django.urls import reverse

from koseki_fuhyo.tests.factories import link_to_koseki
from registry.tests.factories import ResidentFactory
from transfers.models import IdentifierSymbol

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model",
    [
        "registry_resident",
        "registry_household",
        "registry_residentchange",
        "koseki_fuhyo_koseki",
        "koseki_fuhyo_fuhyoentry",
        "koseki_fuhyo_kosekifiling",
        "common_municipality",
        "common_changeevent",
    ],
)
def test_changelists_open_and_add_is_forbidden(admin_client, model):
    resident = ResidentFactory()
    link_to_koseki(resident)
    assert admin_client.get(reverse(f"admin:{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:{model}_add")).status_code == 403


def test_resident_page_is_view_only_and_post_changes_nothing(admin_client):
    resident = ResidentFactory()
    url = reverse("admin:registry_resident_change", args=[resident.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert 'name="surname"' not in page.content.decode()
    admin_client.post(url, {"surname": "改竄"})
    resident.refresh_from_db()
    assert resident.surname == "山田"
    assert admin_client.post(reverse("admin:registry_resident_delete", args=[resident.pk])).status_code == 403


def test_info_provision_code_never_shown(admin_client):
    resident = ResidentFactory()
    entry = link_to_koseki(resident)
    IdentifierSymbol.objects.create(juminhyo_code=entry.juminhyo_code, symbol="SECRET-CODE-123", message_id=uuid4())
    page = admin_client.get(reverse("admin:koseki_fuhyo_fuhyoentry_change", args=[entry.pk]))
    assert page.status_code == 200
    assert "SECRET-CODE-123" not in page.content.decode()
    assert "＊-123" in page.content.decode()
