"""住民票 page (registry:resident): every item with 和暦, the 世帯 with restricted members masked, the 異動 history
newest first, the linked 附票, the notices section; 404 for a restricted person; a fixed number of queries."""

import datetime as dt
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit import restrictions
from audit.models import AuditLogEntry
from audit.tests.screens import entries_after, last_id, user_with
from koseki_fuhyo.models import FuhyoAddress
from koseki_fuhyo.tests.factories import link_to_koseki
from registry import services
from registry.services.entries import NewHousehold
from registry.tests.factories import ResidentFactory, ward
from transfers.models import IdentifierSymbol

pytestmark = pytest.mark.django_db
D = dt.date(2026, 11, 20)


def page(resident) -> str:
    return reverse("registry:resident", args=[resident.pk])


@pytest.fixture
def clerk_client(client):
    user = user_with("madoguchi", "registry.view_resident")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def supervisor_client(client):
    """Sees both registers (the 附票 section needs the 附票 permission)."""
    user = user_with("kantoku", "registry.view_resident", "koseki_fuhyo.view_fuhyoentry", "koseki_fuhyo.view_koseki")
    client.force_login(user)
    return client


@pytest.fixture
def family():
    head = ResidentFactory(birth_date=dt.date(1989, 1, 8))
    wife = ResidentFactory(
        household=head.household, relationship="妻", given_name="花子", given_name_kana="ハナコ", sex="2"
    )
    return head, wife


def restrict(resident):
    restrictions.restrict(
        actor=user_with("kantoku-r"), kind="dv_support", reason="支援措置", starts_on=D, resident=resident
    )
    resident.refresh_from_db()


def test_every_item_with_wareki_and_the_code(clerk_client, family):
    head, _ = family
    body = clerk_client.get(page(head)).content.decode()
    assert "山田　太郎" in body
    assert "ヤマダ　タロウ" in body
    assert "平成元年1月8日（1989-01-08）" in body
    assert head.juminhyo_code in body
    assert head.household.number in body
    assert "東京都渋谷区神南一丁目1番" in body  # 本籍
    assert "住所を定めた年月日" in body
    assert "平成22年4月1日（2010-04-01）" in body


def test_household_members_and_the_subject_marked(clerk_client, family):
    head, wife = family
    body = clerk_client.get(page(head)).content.decode()
    assert "山田　太郎（この人）" in body
    assert page(wife) in body
    assert "山田　花子" in body


def test_restricted_member_is_masked_on_another_persons_page(clerk_client, family):
    head, wife = family
    restrict(wife)
    mark = last_id()
    body = clerk_client.get(page(head)).content.decode()
    assert "閲覧制限あり" in body
    assert "花子" not in body
    assert "ハナコ" not in body
    assert page(wife) not in body
    (entry,) = entries_after(mark, category=AuditLogEntry.Category.ACCESS)
    assert (entry.outcome, entry.subject_ids) == ("shown", sorted([head.pk, wife.pk]))


def test_restricted_person_answers_404_and_is_logged_as_denied(clerk_client, family):
    head, _ = family
    restrict(head)
    mark = last_id()
    assert clerk_client.get(page(head)).status_code == 404
    assert [(e.outcome, e.subject_ids) for e in entries_after(mark)] == [("denied", [head.pk])]


def test_unknown_id_is_404_not_found(clerk_client):
    mark = last_id()
    assert clerk_client.get(reverse("registry:resident", args=[999999])).status_code == 404
    assert [e.outcome for e in entries_after(mark)] == ["not_found"]


def test_one_access_entry_naming_the_persons_shown(clerk_client, family):
    head, wife = family
    mark = last_id()
    assert clerk_client.get(page(wife)).status_code == 200
    (entry,) = entries_after(mark)
    assert (entry.category, entry.outcome, entry.action) == ("access", "shown", "resident.resident_detail")
    assert entry.subject_ids == sorted([head.pk, wife.pk])


def test_history_newest_first(clerk_client, family, as_clerk):
    head, wife = family
    earlier, later = D - dt.timedelta(days=5), D - dt.timedelta(days=2)
    services.move_within([head, wife], change_date=earlier, notified_on=D, new_address=NewHousehold("四谷一丁目1番"))
    services.move_within([head, wife], change_date=later, notified_on=D, new_address=NewHousehold("新宿一丁目2番"))
    response = clerk_client.get(page(head))
    changes = response.context["changes"]
    assert [c.change_date for c in changes] == [later, earlier]
    body = response.content.decode()
    assert body.index("令和8年11月18日") < body.index("令和8年11月15日")
    assert "転居" in body


def test_removed_record_shows_its_removal(clerk_client, family, as_clerk):
    head, wife = family
    services.death(wife, date_of_death=D, notified_on=D)
    body = clerk_client.get(page(wife)).content.decode()
    assert "除票" in body
    assert "死亡" in body
    assert "令和8年11月20日（2026-11-20）" in body


def test_linked_fuhyo_with_its_address_history_for_a_user_with_the_fuhyo_permission(supervisor_client, family):
    head, _ = family
    entry = link_to_koseki(head)
    FuhyoAddress.objects.filter(entry=entry).update(is_current=False)
    FuhyoAddress.objects.create(
        entry=entry, municipality=ward(), address="四谷一丁目1番", established_on=D, recorded_on=D, reason="転居"
    )
    IdentifierSymbol.objects.create(juminhyo_code=entry.juminhyo_code, symbol="SECRET-CODE-123", message_id=uuid4())
    body = supervisor_client.get(page(head)).content.decode()
    assert "戸籍の附票" in body
    assert "四谷一丁目1番" in body
    assert "転居" in body
    assert reverse("koseki_fuhyo:koseki", args=[entry.koseki_id]) in body
    assert "SECRET-CODE-123" not in body
    assert "＊-123" in body


def test_fuhyo_section_needs_the_fuhyo_permission(clerk_client, family):
    head, _ = family
    link_to_koseki(head)
    body = clerk_client.get(page(head)).content.decode()
    assert "附票を見る権限がありません" in body
    section = body.split('id="fuhyo-title"', 1)[1].split('id="notices-title"', 1)[0]
    assert "<table" not in section
    assert "筆頭者" not in section


def test_no_fuhyo_when_the_honseki_is_elsewhere(supervisor_client, family):
    head, _ = family
    body = supervisor_client.get(page(head)).content.decode()
    assert "本籍がこの区にないため" in body


def test_notices_section_empty_state(clerk_client, family):
    body = clerk_client.get(page(family[0])).content.decode()
    assert "この人に関する通知" in body
    assert "通知はまだありません" in body


def test_query_count_does_not_grow_with_members_history_or_fuhyo_lines(supervisor_client, as_clerk):
    def build(members: int, moves: int):
        head = ResidentFactory()
        for _ in range(members):
            ResidentFactory(household=head.household, relationship="子", given_name_kana="イチロウ", given_name="一郎")
        entry = link_to_koseki(head)
        everyone = list(head.household.members.all())
        for i in range(moves):
            services.move_within(
                everyone,
                change_date=D - dt.timedelta(days=10 - i),
                notified_on=D,
                new_address=NewHousehold(f"四谷一丁目{i + 1}番"),
            )
        assert entry.addresses.count() == 1 + moves
        return head

    small, large = build(1, 1), build(5, 4)
    with CaptureQueriesContext(connection) as few:
        assert supervisor_client.get(page(small)).status_code == 200
    with CaptureQueriesContext(connection) as many:
        assert supervisor_client.get(page(large)).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    assert not [q for q in many.captured_queries if "COUNT(" in q["sql"].upper()]


def test_notices_section_lists_the_notices_raised_by_the_persons_changes(clerk_client, family, as_clerk):
    head, wife = family
    services.move_within([head, wife], change_date=D, notified_on=D, new_address=NewHousehold("四谷一丁目1番"))
    response = clerk_client.get(page(head))
    notices = response.context["notices"]
    assert [(n.kind, n.receiver) for n in notices] == [("fuhyo_items", head.honseki_municipality_id)]
    section = response.content.decode().split('id="notices-title"', 1)[1]
    assert "戸籍の附票記載事項通知（住基法19条1項）" in section
    assert "送信待ち" in section


@pytest.mark.parametrize(
    "stored",
    ["北区梅田二丁目2番2号", "大阪府大阪市北区梅田二丁目2番2号"],
    ids=["within the municipality", "written with the municipality's name (older rows)"],
)
def test_previous_address_names_its_municipality_once(clerk_client, stored):
    from common.models import Municipality

    resident = ResidentFactory(previous_municipality=Municipality.objects.get(code="271004"), previous_address=stored)
    body = clerk_client.get(page(resident)).content.decode()
    assert body.count("大阪府大阪市北区梅田二丁目2番2号") == 1
    assert "大阪府大阪市大阪府大阪市" not in body


def test_previous_address_of_a_person_without_one(clerk_client, family):
    body = clerk_client.get(page(family[0])).content.decode()
    assert "<dt>従前の住所</dt><dd>（なし）</dd>" in body


def test_the_kana_is_shown_as_the_furigana_of_the_name(clerk_client, family):
    """氏名の振り仮名 (a legal item since 2025-05-26) is what the カナ fields hold, and is so labelled."""
    body = clerk_client.get(page(family[0])).content.decode()
    assert f"<dt>氏名の振り仮名</dt><dd>{family[0].name_kana}</dd>" in body
    assert "氏名カナ" not in body
