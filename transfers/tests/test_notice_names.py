"""Issue 15, item 3: names where people expect them — the inbox lists each notice's person by name (through the
visibility rule: 「閲覧制限のある方」 for a restricted person without a grant, and the access entry names those
shown), and a notice's page says whose it is and which record (「栗林　綾香（住民票 #12・現存）」, not
「附票 #465」)."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from audit.models import AuditLogEntry
from audit.tests.restricted_persons import leaks, make_restricted_persons
from audit.tests.screens import PASSWORD, entries_after, last_id
from common.roles import KOSEKI_CLERK, assign_role, ensure_roles
from koseki_fuhyo.tests.factories import link_to_koseki
from registry.tests.factories import ResidentFactory
from transfers.models import InboundNotice

from .test_pages import _inbound as inbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def madoguchi(client, staff_clerk):
    """A client logged in as the root conftest's 窓口担当."""
    client.force_login(staff_clerk)
    return client


def _inbound(**fields) -> InboundNotice:
    """A notice whose payload names nobody: whatever name the page shows comes from the register."""
    return inbound(payload={"person": {}}, **fields)


def _table(body: str) -> str:
    return body.split('class="notice-table"', 1)[1].split("</table>", 1)[0]


def test_the_inbox_has_a_name_column_and_names_the_matched_person(madoguchi):
    person = ResidentFactory(surname="栗林", given_name="綾香")
    _inbound(resident=person)
    _inbound()  # matched nobody: no name, and the payload is never read for one
    mark = last_id()
    body = madoguchi.get(reverse("notices:inbox")).content.decode()
    assert '<th scope="col">氏名</th>' in body
    assert f"栗林　綾香（住民票 #{person.pk}）" in _table(body)
    assert "台帳の記録と未照合" in _table(body)
    (entry,) = entries_after(mark, category=AuditLogEntry.Category.ACCESS)
    assert entry.subject_ids == [person.pk]  # the list now shows a person: its access entry says whom


def test_the_inbox_masks_restricted_persons(madoguchi):
    persons = make_restricted_persons()
    kitouin, higaki = persons["kitouin"], persons["higaki"]
    _inbound(resident=kitouin.resident, fuhyo_entry=kitouin.entry)
    _inbound(fuhyo_entry=higaki.entry)
    mark = last_id()
    body = madoguchi.get(reverse("notices:inbox")).content.decode()
    assert leaks(body, persons) == []
    table = _table(body)
    assert f"閲覧制限のある方（住民票 #{kitouin.resident.pk}）" in table
    assert f"閲覧制限のある方（附票 #{higaki.entry.pk}）" in table
    (entry,) = entries_after(mark, category=AuditLogEntry.Category.ACCESS)
    assert entry.subject_ids == []


def test_the_notice_page_names_the_person_and_the_record(madoguchi):
    person = ResidentFactory(surname="栗林", given_name="綾香")
    entry = link_to_koseki(person)
    inbound = _inbound(resident=person, fuhyo_entry=entry)
    body = madoguchi.get(reverse("notices:inbound", args=[inbound.pk])).content.decode()
    links = body.split('class="person-links"', 1)[1].split("</p>", 1)[0]
    assert "栗林　綾香" in links
    assert f"住民票 #{person.pk}" in links
    assert f"戸籍の附票 #{entry.pk}" in links


def test_the_notice_page_of_a_fuhyo_row_alone_names_its_person(client):
    user = get_user_model().objects.create_user(username="koseki-tantou", password=PASSWORD)
    assign_role(user, KOSEKI_CLERK, ensure_roles())
    client.force_login(get_user_model().objects.get(pk=user.pk))
    entry = link_to_koseki(ResidentFactory(surname="栗林", given_name="綾香"))
    inbound = _inbound(fuhyo_entry=entry)
    body = client.get(reverse("notices:inbound", args=[inbound.pk])).content.decode()
    links = body.split('class="person-links"', 1)[1].split("</p>", 1)[0]
    assert "栗林　綾香" in links
    assert f"戸籍の附票 #{entry.pk}" in links
