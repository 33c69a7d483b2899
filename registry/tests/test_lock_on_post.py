"""排他制御 is taken by the first POST, never by opening a screen: a link opened from anywhere must not lock records in
a clerk's name for 15 minutes; and 編集中の一覧 is for supervisors only (issue 12, finding 11)."""

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditLogEntry
from common.roles import KOSEKI_CLERK, OPERATOR, RESIDENT_CLERK, SUPERVISOR
from koseki_fuhyo.choices import FilingKind
from koseki_fuhyo.tests.factories import link_to_koseki
from registry.models import EditLock
from registry.tests.change_screens import family, login

pytestmark = pytest.mark.django_db

HOUSEHOLD_SCREENS = (
    "birth",
    "move_within",
    "change_household_head",
    "split_household",
    "merge_households",
    "move_out",
    "ex_officio_removal",
)
RESIDENT_SCREENS = ("ex_officio_amendment", "death")
PLAIN_SCREENS = ("move_in", "ex_officio_entry")


def _person(django_user_model, username: str, role, **names) -> Client:
    user = django_user_model.objects.create_user(username=username, password="x-for-tests-only", **names)
    return login(Client(), user, role)


def _change_urls(head, wife) -> list[str]:
    return [
        *(reverse(f"registry_changes:{name}", args=[head.household.pk]) for name in HOUSEHOLD_SCREENS),
        *(reverse(f"registry_changes:{name}", args=[wife.pk]) for name in RESIDENT_SCREENS),
        *(reverse(f"registry_changes:{name}") for name in PLAIN_SCREENS),
    ]


def test_opening_any_change_screen_takes_no_lock(django_user_model):
    head, wife, child = family()
    koseki = link_to_koseki(head).koseki
    link_to_koseki(wife, koseki, hittousha=False)
    boss = _person(django_user_model, "boss", SUPERVISOR)  # may open both registers' entry screens
    urls = _change_urls(head, wife)
    urls += [f"{reverse(f'koseki_filings:{kind}')}?koseki={koseki.pk}" for kind in FilingKind.values]
    for url in urls:
        assert boss.get(url).status_code == 200, url
        assert not EditLock.objects.exists(), f"GET {url} took a lock"


def test_the_first_post_takes_the_lock(django_user_model):
    head, wife, child = family()
    desk = _person(django_user_model, "desk", RESIDENT_CLERK, last_name="窓口")
    url = reverse("registry_changes:ex_officio_amendment", args=[wife.pk])
    assert desk.get(url).status_code == 200
    assert not EditLock.objects.exists()
    desk.post(url, {"step": "confirm"})  # even an incomplete input: the clerk has started editing
    lock = EditLock.objects.get()
    assert (lock.holder.username, lock.subject_kind, lock.subject_id) == ("desk", "resident", wife.pk)


def test_opening_a_screen_another_clerk_is_editing_says_so_and_takes_nothing(django_user_model):
    head, wife, child = family()
    desk = _person(django_user_model, "desk", RESIDENT_CLERK, last_name="窓口")
    other = _person(django_user_model, "other", RESIDENT_CLERK, last_name="佐藤")
    desk.post(reverse("registry_changes:split_household", args=[head.household.pk]), {"step": "confirm"})
    held = set(EditLock.objects.values_list("holder__username", "subject_kind", "subject_id"))
    refused = other.get(reverse("registry_changes:move_within", args=[head.household.pk]))
    assert refused.status_code == 409
    assert "この世帯は窓口さんが編集中です" in refused.content.decode()
    assert set(EditLock.objects.values_list("holder__username", "subject_kind", "subject_id")) == held


@pytest.mark.parametrize("role", [RESIDENT_CLERK, KOSEKI_CLERK, OPERATOR], ids=lambda role: role.key)
def test_the_lock_list_is_refused_to_everyone_but_supervisors(django_user_model, role):
    user = _person(django_user_model, "someone", role)
    mark = AuditLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = user.get(reverse("registry_changes:locks"))
    assert response.status_code == 403
    denied = AuditLogEntry.objects.filter(pk__gt=mark, outcome=AuditLogEntry.Outcome.DENIED)
    assert [(e.action, e.username) for e in denied] == [("menu.lock_list", "someone")]


def test_the_lock_list_opens_for_supervisors(django_user_model):
    boss = _person(django_user_model, "boss", SUPERVISOR)
    response = boss.get(reverse("registry_changes:locks"))
    assert response.status_code == 200
    assert "編集中の一覧" in response.content.decode()
