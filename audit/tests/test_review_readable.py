"""Issue 15, item 2: the audit review and the access log read as words — 画面名 and 操作 by their Japanese labels,
通知の種類 by the notices' own labels, persons by name through the one visibility rule (a restricted person stays
「閲覧制限のある方」 for a supervisor without a grant), hashes shortened with the whole value on demand — and the
review still writes exactly one access entry, naming the persons it showed."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from audit import restrictions
from audit.labels import action_label
from registry.tests.factories import ResidentFactory

from .restricted_persons import leaks, make_restricted_persons, supervisor_user
from .screens import append, entries_after, last_id

pytestmark = pytest.mark.django_db
REVIEW = reverse("audit:review")
LOG = reverse("audit:log")
DIGEST = "ab12cd34ef56" + "0" * 52


@pytest.fixture
def boss(client, supervisor):
    """The root conftest's supervisor, logged in on `client`."""
    client.force_login(supervisor)
    return supervisor


def _table(response) -> str:
    return response.content.decode().split("<h2>記録", 1)[1]


def test_action_label_names_known_screens_and_keeps_unknown_names():
    assert action_label("search.resident_search") == "住民検索"
    assert action_label("review.review_list") == "監査記録の確認"
    assert action_label("sent") == "送信"
    assert action_label("moves.move_within") == "異動入力（転居）"  # the label declared with the view
    assert action_label("nobody.knows_this") == "nobody.knows_this"


@pytest.mark.parametrize("url", [REVIEW, LOG])
def test_screens_and_notice_kinds_by_label_and_hashes_shortened(client, boss, url):
    append(action="search.resident_search", conditions={"name": "ヤマダ"})
    append(
        username="", category="transmission", action="sent", outcome="done", subject_kind="notice",
        conditions={"message_id": "m1", "kind": "move_in_notice", "partner": "131130", "digest": DIGEST},
    )  # fmt: skip
    table = _table(client.get(url, {"source": "access"} if url == REVIEW else {}))
    assert "住民検索" in table
    assert "search.resident_search</" not in table  # the stored name only as a tooltip, never as the cell's text
    if url == REVIEW:  # the access log lists no conditions
        body = _table(client.get(url, {"source": "transmission"}))
        assert "転入通知（住基法9条1項）" in body
        assert ">digest<" not in body
        assert "ハッシュ（SHA-256）" in body
        assert "<code>ab12cd34ef56…</code>" in body  # the first 12 characters in the row
        assert f'<code class="hash" tabindex="0">{DIGEST}</code>' in body  # the whole value in its <details>
        assert ">move_in_notice<" not in body


@pytest.mark.parametrize("url", [REVIEW, LOG])
def test_persons_by_name_and_the_one_access_entry_names_them(client, boss, url):
    person = ResidentFactory(surname="読谷", given_name="晴子")
    looked = append(subject_ids=[person.pk])
    mark = last_id()
    table = _table(client.get(url))
    assert f"読谷　晴子（住民票 #{person.pk}）" in table
    assert f"resident {person.pk}" not in table
    (entry,) = entries_after(mark)
    assert entry.action in ("review.review_list", "log.entry_list")
    assert entry.outcome == "shown"
    assert person.pk in entry.subject_ids
    assert looked.pk < entry.pk


@pytest.mark.parametrize("url", [REVIEW, LOG])
def test_restricted_persons_stay_masked_for_a_supervisor_without_a_grant(client, boss, url):
    persons = make_restricted_persons()
    kitouin, higaki = persons["kitouin"], persons["higaki"]
    append(subject_ids=[kitouin.resident.pk])
    append(subject_kind="koseki", subject_ids=[higaki.entry.pk])
    append(subject_kind="resident", subject_ids=[], conditions={"fuhyo_entry_ids": [kitouin.entry.pk]})
    mark = last_id()
    response = client.get(url)
    table = _table(response)
    assert leaks(response.content.decode(), persons) == []
    assert f"閲覧制限のある方（住民票 #{kitouin.resident.pk}）" in table
    assert f"閲覧制限のある方（附票 #{higaki.entry.pk}）" in table
    (entry,) = entries_after(mark)  # still one entry; the masked persons were not shown, so not named on it
    assert kitouin.resident.pk not in entry.subject_ids
    assert higaki.entry.pk not in entry.conditions.get("fuhyo_entry_ids", [])


def test_a_grant_shows_the_name_to_its_holder(client, boss):
    persons = make_restricted_persons()
    kitouin = persons["kitouin"]
    restrictions.grant(
        actor=supervisor_user(),
        user=boss,
        reason="確認",
        expires_at=timezone.now() + dt.timedelta(days=1),
        resident=kitouin.resident,
    )
    append(subject_ids=[kitouin.resident.pk])
    table = _table(client.get(REVIEW, {"source": "access"}))
    assert f"鬼頭院　薫子（住民票 #{kitouin.resident.pk}）" in table


def test_who_looked_names_the_person_unless_restricted(client, boss):
    person = ResidentFactory(surname="読谷", given_name="晴子")
    lead = client.get(REVIEW, {"person": str(person.pk)}).content.decode().split('id="who-looked"')[1].split("</p>")[0]
    assert "読谷　晴子" in lead
    persons = make_restricted_persons()
    kitouin = persons["kitouin"].resident
    body = client.get(REVIEW, {"person": str(kitouin.pk)}).content.decode()
    assert leaks(body, persons) == []
    assert "閲覧制限のある方" in body.split('id="who-looked"')[1].split("</p>")[0]


def test_ids_of_other_things_are_never_named_as_persons(client, boss):
    stranger = ResidentFactory(surname="読谷", given_name="晴子")
    append(subject_kind="staff_account", subject_ids=[stranger.pk], outcome="denied")  # a user id, equal by chance
    append(category="account", action="user_created", subject_kind="user", subject_ids=[stranger.pk])
    table = _table(client.get(REVIEW, {"source": "access"}))
    assert "読谷" not in table
    assert f"職員 {stranger.pk}" in table


def test_changed_fields_kinds_and_the_action_filter_read_as_words():
    from audit.labels import action_choices, value_text
    from audit.review import _field_label
    from koseki_fuhyo.choices import FilingKind
    from registry.models import Resident

    assert _field_label(Resident, "surname") == str(Resident._meta.get_field("surname").verbose_name) != "surname"
    assert _field_label(Resident, "no_such_field") == "no_such_field"
    assert value_text("kind", FilingKind.DEATH.value) == FilingKind.DEATH.label  # a 届出's kind, not left as stored
    groups = dict(action_choices()[1:])
    assert ("search.resident_search", "住民検索（search.resident_search）") in groups["画面"]
    assert ("sent", "送信（sent）") in groups["操作"]
    assert ("update", "変更") in groups["変更履歴"]
