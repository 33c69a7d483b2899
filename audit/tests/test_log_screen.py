"""The access-log screen: filters (職員, period, outcome, category, 画面, person), night/holiday and denied
highlighting, keyset pagination without COUNT(*), the detail page, the chain check — and looking is itself logged."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit import selectors
from koseki_fuhyo.tests.factories import link_to_koseki
from registry.tests.factories import ResidentFactory

from .screens import append, at, entries_after, last_id, user_with

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")
LOG = reverse("audit:log")


@pytest.fixture
def client_as(client, supervisor):
    client.force_login(supervisor)
    return client


def _ids(response) -> list[int]:
    return [row["entry"].pk for row in response.context["page"].rows]


def test_clerk_without_permission_is_refused_and_logged(client):
    clerk = user_with("clerk2", "registry.view_resident")
    client.force_login(clerk)
    mark = last_id()
    assert client.get(LOG).status_code == 403
    (entry,) = entries_after(mark)
    assert (entry.action, entry.outcome, entry.username) == ("log.entry_list", "denied", "clerk2")


def test_looking_at_the_log_is_logged_with_the_conditions(client_as):
    append(username="clerk")
    mark = last_id()
    response = client_as.get(LOG, {"username": "clerk", "outcome": "shown"})
    assert response.status_code == 200
    (entry,) = entries_after(mark)
    assert (entry.action, entry.outcome, entry.category) == ("log.entry_list", "shown", "access")
    assert entry.conditions == {"username": "clerk", "outcome": "shown"}


def test_filters_by_user_outcome_category_and_action(client_as):
    a = append(username="clerk", action="views.resident_detail")
    b = append(username="koseki", action="views.koseki_detail", outcome="denied")
    c = append(username="clerk", action="grant", category="permission", outcome="done")
    assert _ids(client_as.get(LOG, {"username": "clerk"})) == [c.pk, a.pk]
    assert _ids(client_as.get(LOG, {"outcome": "denied"})) == [b.pk]
    assert _ids(client_as.get(LOG, {"category": "permission"})) == [c.pk]
    assert _ids(client_as.get(LOG, {"action": "views.koseki_detail"})) == [b.pk]


@pytest.mark.time_machine(
    dt.datetime(2026, 12, 2, 10, tzinfo=JST)
)  # the log-in and the page's own entries: not 11/24-25
def test_filters_by_period_in_the_wards_time(client_as):
    with at(dt.datetime(2026, 11, 24, 23, 30, tzinfo=JST)):
        late = append()
    with at(dt.datetime(2026, 11, 25, 0, 30, tzinfo=JST)):  # 15:30 UTC of the 24th: still the 25th in Tokyo
        after_midnight = append()
    assert _ids(client_as.get(LOG, {"date_from": "2026-11-25", "date_to": "R8.11.25"})) == [after_midnight.pk]
    assert _ids(client_as.get(LOG, {"date_to": "令和8年11月24日"})) == [late.pk]


def test_period_errors_are_in_japanese_next_to_the_field(client_as):
    response = client_as.get(LOG, {"date_from": "2026-11-25", "date_to": "2026-11-01"})
    assert response.status_code == 200
    assert "期間の終わりは始まりより後の日にしてください。" in response.content.decode()
    response = client_as.get(LOG, {"date_from": "きのう"})
    assert "日付として読めません" in response.content.decode()


def test_person_by_id_finds_who_looked_at_or_changed_the_record(client_as):
    person, other = ResidentFactory(), ResidentFactory()
    looked = append(subject_ids=[other.pk, person.pk])
    changed = append(
        category="permission", action="restrict", outcome="done", subject_kind="person", subject_ids=[person.pk]
    )
    append(subject_ids=[other.pk])
    append(subject_ids=[int(f"{person.pk}0")])  # an id that merely starts with the same digits
    append(subject_kind="koseki", subject_ids=[person.pk])  # a 附票 row id that happens to be equal
    mark = last_id()
    response = client_as.get(LOG, {"person": str(person.pk)})
    assert _ids(response) == [changed.pk, looked.pk]
    (entry,) = entries_after(mark)
    # the supervisor's lookup names the person asked about, and the persons its rows showed by name (issue 15)
    assert entry.subject_ids == sorted([person.pk, other.pk])


def test_person_by_juminhyo_code_covers_every_record_of_the_person(client_as):
    person = ResidentFactory()
    fuhyo = link_to_koseki(person)
    on_register = append(subject_ids=[person.pk])
    on_koseki = append(action="views.koseki_detail", subject_kind="koseki", subject_ids=[fuhyo.pk])
    append(subject_kind="koseki", subject_ids=[fuhyo.pk + 1000])
    assert _ids(client_as.get(LOG, {"person": person.juminhyo_code})) == [on_koseki.pk, on_register.pk]


def test_person_errors(client_as):
    body = client_as.get(LOG, {"person": "999999"}).content.decode()
    assert "該当する住民票・附票がありません。" in body
    body = client_as.get(LOG, {"person": "12345678901"}).content.decode()  # deliberately invalid check digit
    assert "検査数字が正しくありません" in body


def test_off_hours_closed_days_and_denied_are_highlighted_and_filterable(client_as):
    """The office calendar of the nightly analysis (audit.office_hours: 8:30–17:15, weekends, national holidays,
    12/29–1/3) is the screen's: the badges and the filter agree with it."""
    with at(dt.datetime(2026, 11, 25, 23, 5, tzinfo=JST)):  # Wednesday night
        night = append()
    with at(dt.datetime(2026, 11, 25, 18, 0, tzinfo=JST)):  # Wednesday 18:00: after office hours, not yet "night"
        evening = append()
    with at(dt.datetime(2026, 11, 25, 17, 15, tzinfo=JST)):  # closing time
        closing = append()
    with at(dt.datetime(2026, 11, 23, 10, 0, tzinfo=JST)):  # Monday, 勤労感謝の日: a national holiday
        holiday = append()
    with at(dt.datetime(2026, 11, 28, 10, 0, tzinfo=JST)):  # Saturday
        saturday = append()
    with at(dt.datetime(2026, 12, 30, 10, 0, tzinfo=JST)):  # 年末年始, a Wednesday
        year_end = append()
    with at(dt.datetime(2026, 11, 25, 8, 30, tzinfo=JST)):  # Wednesday, opening time
        daytime = append()
        denied = append(outcome="denied")
    response = client_as.get(LOG, {"username": "clerk"})
    rows = {row["entry"].pk: row for row in response.context["page"].rows}
    flags = {pk: (row["after_hours"], row["closed_day"], row["denied"]) for pk, row in rows.items()}
    assert flags[night.pk] == (True, "", False)
    assert flags[evening.pk] == (True, "", False)
    assert flags[closing.pk] == (True, "", False)
    assert flags[holiday.pk] == (False, "勤労感謝の日", False)
    assert flags[saturday.pk] == (False, "土曜日", False)
    assert flags[year_end.pk] == (False, "年末年始", False)
    assert flags[daytime.pk] == (False, "", False)
    assert rows[denied.pk]["denied"]
    body = response.content.decode()
    assert body.count('class="off-hours"') == 6
    assert body.count('class=" denied"') == 1
    assert "開庁日の8:30〜17:15の外" in body
    off = _ids(client_as.get(LOG, {"off_hours": "on", "category": "access", "username": "clerk"}))
    assert off == [year_end.pk, saturday.pk, holiday.pk, closing.pk, evening.pk, night.pk]
    within = {"off_hours": "on", "username": "clerk", "date_from": "2026-11-23", "date_to": "2026-11-23"}
    assert _ids(client_as.get(LOG, within)) == [holiday.pk]


def test_keyset_pagination_without_count(client_as):
    made = [append(username="bulk") for _ in range(selectors.LOG_PAGE_SIZE + 5)]
    with CaptureQueriesContext(connection) as queries:
        first = client_as.get(LOG, {"username": "bulk"})
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)
    assert _ids(first) == [e.pk for e in reversed(made)][: selectors.LOG_PAGE_SIZE]
    next_query = first.context["next_query"]
    assert f"before={made[5].pk}" in next_query
    second = client_as.get(f"{LOG}?{next_query}")
    assert _ids(second) == [e.pk for e in reversed(made[:5])]
    assert second.context["next_query"] is None
    assert "最新に戻る" in second.content.decode()


def test_detail_page(client_as):
    entry = append(username="clerk", subject_ids=[3, 4], conditions={"q": "田中"})
    mark = last_id()
    response = client_as.get(reverse("audit:log_entry", args=[entry.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert entry.entry_hash in body
    assert "田中" in body
    (logged,) = entries_after(mark)
    assert (logged.action, logged.conditions) == ("log.entry_detail", {"log_entry_id": entry.pk})
    mark = last_id()
    assert client_as.get(reverse("audit:log_entry", args=[10**9])).status_code == 404
    assert entries_after(mark)[0].outcome == "not_found"


def test_chain_check_page(client_as):
    append()
    url = reverse("audit:verify_chain")
    assert "検証する" in client_as.get(url).content.decode()
    body = client_as.post(url).content.decode()
    assert "チェーンは完全です" in body


def test_chain_check_names_the_first_bad_entry(client_as):
    entries = [append(subject_ids=[i]) for i in range(3)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE audit_auditlogentry SET subject_ids = %s WHERE id = %s", ["[999]", entries[1].pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    response = client_as.post(reverse("audit:verify_chain"))
    assert response.context["result"]["problem"].entry_id == entries[1].pk
    assert "改ざん" in response.content.decode()


def test_log_screen_reads_a_fixed_number_of_queries(client_as):
    for i in range(30):
        append(username=f"user{i % 3}", subject_ids=[i])
    with CaptureQueriesContext(connection) as small:
        client_as.get(LOG)
    for i in range(30):
        append(username=f"user{i % 3}", subject_ids=[i])
    with CaptureQueriesContext(connection) as large:
        client_as.get(LOG)
    assert len(large) == len(small)


def test_empty_result_says_so_without_a_total(client_as):
    body = client_as.get(LOG, {"username": "nobody-at-all"}).content.decode()
    assert "該当する記録はありません。" in body
