"""The audit review: the chain and the change history in one list, the filters (user, period, action, outcome,
person, partner, source), keyset pages over both sources without COUNT(*), 「この記録を見た人」 from the 住民票 and
附票 pages — and every look is itself logged."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit import review
from koseki_fuhyo.tests.factories import KosekiFactory, link_to_koseki
from registry.tests.factories import ResidentFactory

from .screens import append, at, entries_after, last_id, user_with

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")
REVIEW = reverse("audit:review")
PERMS = ("audit.view_auditlogentry", "auditlog.view_logentry")


@pytest.fixture
def client_as(client, supervisor):
    client.force_login(supervisor)
    return client


def _rows(response) -> list[tuple[str, int]]:
    return [(row.source, row.pk) for row in response.context["page"].rows]


def test_without_the_permissions_refused_and_logged(client):
    client.force_login(user_with("half", "audit.view_auditlogentry"))  # no change-history permission
    mark = last_id()
    assert client.get(REVIEW).status_code == 403
    assert [(e.action, e.outcome) for e in entries_after(mark)] == [("review.review_list", "denied")]


def test_who_looked_at_this_person_and_the_look_is_logged(client_as):
    person = ResidentFactory()
    other = ResidentFactory()
    with at(dt.datetime(2026, 11, 24, 10, tzinfo=JST)):
        seen = append(username="clerk", subject_ids=[person.pk], conditions={"q": "ヤマダ"})
        append(username="clerk", subject_ids=[other.pk])
        used = append(
            username="granted",
            category="permission",
            action="use",
            outcome="done",
            subject_ids=[person.pk],
            conditions={"view": "views.resident_detail"},
        )
        # An account entry names a user id in subject_ids — never a person, even when the numbers coincide.
        append(
            username="kantoku", category="account", action="user_updated", subject_kind="user", subject_ids=[person.pk]
        )
    mark = last_id()
    response = client_as.get(REVIEW, {"person": str(person.pk), "source": "access"})
    assert response.status_code == 200
    assert _rows(response) == [("audit", used.pk), ("audit", seen.pk)]
    body = response.content.decode()
    assert "この記録を見た人" in body
    assert "ヤマダ" in body  # the search conditions recorded with the look
    (entry,) = entries_after(mark)
    assert (entry.action, entry.outcome, entry.subject_ids) == ("review.review_list", "shown", [person.pk])
    assert entry.conditions == {"person": str(person.pk), "source": "access"}


def test_change_history_is_listed_with_field_names_only(client_as):
    person = ResidentFactory(surname="山田")
    created = LogEntry.objects.get(content_type__model="resident", object_id=person.pk)
    response = client_as.get(REVIEW, {"person": person.juminhyo_code, "source": "changes"})
    assert ("change", created.pk) in _rows(response)
    row = next(r for r in response.context["page"].rows if r.pk == created.pk)
    assert row.subject == f"住民票 #{person.pk}"
    assert row.names == [f"{person.surname}　{person.given_name}（住民票 #{person.pk}）"]  # the person, by name
    rows = response.content.decode().split("<h2>記録")[1]
    for value in (person.surname_kana, person.birth_date.isoformat(), person.juminhyo_code):
        assert value not in rows  # names of fields, never their values


def test_filters_user_action_outcome_and_period(client_as):
    with at(dt.datetime(2026, 11, 20, 10, tzinfo=JST)):
        old = append(username="clerk", action="search.resident_search")
    with at(dt.datetime(2026, 11, 24, 10, tzinfo=JST)):
        denied = append(username="clerk", action="search.resident_search", outcome="denied")
        other = append(username="koseki", action="search.resident_search")
    ids = lambda **q: [pk for src, pk in _rows(client_as.get(REVIEW, {"source": "access", **q})) if src == "audit"]  # noqa: E731
    assert set(ids(username="clerk")) >= {old.pk, denied.pk}
    assert other.pk not in ids(username="clerk")
    assert ids(username="clerk", outcome="denied") == [denied.pk]
    assert ids(action="search.resident_search", date_from="2026-11-24", date_to="R8.11.24") == [other.pk, denied.pk]


def test_partner_filter_reads_the_transmission_log(client_as):
    to_shibuya = append(
        username="", category="transmission", action="sent", outcome="done", subject_kind="notice",
        conditions={"message_id": "m1", "kind": "fuhyo_items", "partner": "131130"},
    )  # fmt: skip
    append(
        username="", category="transmission", action="sent", outcome="done", subject_kind="notice",
        conditions={"message_id": "m2", "kind": "fuhyo_items", "partner": "J-LIS"},
    )  # fmt: skip
    response = client_as.get(REVIEW, {"partner": "131130"})
    assert _rows(response) == [("audit", to_shibuya.pk)]  # the change history has no partner: left out


def test_keyset_pages_merge_both_sources_without_count():
    base = dt.datetime(2026, 11, 24, 9, tzinfo=JST)
    expected = []
    for i in range(5):
        with at(base + dt.timedelta(minutes=2 * i)):
            expected.append(("audit", append(username="clerk", subject_ids=[i]).pk))
        resident = ResidentFactory()
        change = LogEntry.objects.get(content_type__model="resident", object_id=resident.pk)
        LogEntry.objects.filter(pk=change.pk).update(timestamp=base + dt.timedelta(minutes=2 * i + 1))
        expected.append(("change", change.pk))
    flt = review.ReviewFilter(date_from=dt.date(2026, 11, 24), date_to=dt.date(2026, 11, 24))
    seen, cursors = [], {"audit_before": None, "change_before": None}
    with CaptureQueriesContext(connection) as queries:
        while True:
            page = review.page(flt, size=3, **cursors)
            seen += [(r.source, r.pk) for r in page.rows]
            if not page.has_next:
                break
            cursors = {"audit_before": page.next_audit, "change_before": page.next_change}
    assert seen == list(reversed(expected))  # every row once, newest first, the two sources interleaved by time
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_cursor_round_trip_and_bad_cursors():
    at_ = dt.datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=dt.UTC)
    assert review.Cursor.decode(review.Cursor(at_, 42).encode()) == review.Cursor(at_, 42)
    assert review.Cursor.decode("nonsense") is None
    assert review.Cursor.decode(None) is None


def test_the_resident_page_links_to_who_looked(client_as, client):
    person = ResidentFactory()
    body = client_as.get(reverse("registry:resident", args=[person.pk])).content.decode()
    assert f"{REVIEW}?person={person.pk}&amp;source=access" in body
    clerk = user_with("madoguchi", "registry.view_resident")
    client.force_login(clerk)
    assert REVIEW not in client.get(reverse("registry:resident", args=[person.pk])).content.decode()


def test_the_koseki_page_links_each_person_to_who_looked(client_as):
    person = ResidentFactory()
    entry = link_to_koseki(person, KosekiFactory())
    body = client_as.get(reverse("koseki_fuhyo:koseki", args=[entry.koseki_id])).content.decode()
    assert f"{REVIEW}?person={entry.juminhyo_code}&amp;source=access" in body


def test_a_fuhyo_row_without_code_is_asked_by_its_id(client_as):
    from koseki_fuhyo.models import FuhyoEntry

    entry = link_to_koseki(ResidentFactory(), KosekiFactory())
    FuhyoEntry.objects.filter(pk=entry.pk).update(juminhyo_code="")
    looked = append(username="koseki", subject_kind="koseki", subject_ids=[entry.pk])
    as_resident = append(username="clerk", subject_kind="resident", subject_ids=[entry.pk])  # another table's id
    response = client_as.get(REVIEW, {"fuhyo": str(entry.pk), "source": "access"})
    rows = _rows(response)
    assert ("audit", looked.pk) in rows
    assert ("audit", as_resident.pk) not in rows
    body = client_as.get(reverse("koseki_fuhyo:koseki", args=[entry.koseki_id])).content.decode()
    assert f"{REVIEW}?fuhyo={entry.pk}&amp;source=access" in body
