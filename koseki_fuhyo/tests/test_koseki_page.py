"""戸籍・附票 screens: the search (本籍 partial, 筆頭者 氏名 partial / カナ prefix) and the page of one 戸籍 with each
person's address history; every person printed is checked, a restricted one is masked (the 筆頭者 too)."""

import datetime as dt
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import restrictions
from audit.models import AuditLogEntry
from audit.tests.screens import entries_after, last_id, user_with
from koseki_fuhyo.models import FuhyoAddress
from koseki_fuhyo.tests.factories import FuhyoEntryFactory, KosekiFactory, link_to_koseki
from registry.tests.factories import ResidentFactory, elsewhere, ward
from transfers.models import IdentifierSymbol

pytestmark = pytest.mark.django_db
SEARCH = reverse("koseki_fuhyo:search")
D = dt.date(2026, 11, 1)


def page(koseki) -> str:
    return reverse("koseki_fuhyo:koseki", args=[koseki.pk])


@pytest.fixture
def koseki_client(client):
    user = user_with("koseki-tantou", "koseki_fuhyo.view_koseki")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def family():
    """A 戸籍 of 北新宿: 筆頭者 山田太郎 lives in the ward; his wife 花子 lives in 渋谷区."""
    head = ResidentFactory()
    entry = link_to_koseki(head)
    koseki = entry.koseki
    wife = FuhyoEntryFactory(
        koseki=koseki, position=2, given_name="花子", given_name_kana="ハナコ", sex="2", birth_date=dt.date(1982, 3, 3)
    )
    FuhyoAddress.objects.create(
        entry=wife, municipality=elsewhere(), address="神南一丁目5番", established_on=D, recorded_on=D, reason="転入"
    )
    return koseki, entry, wife, head


def restrict(entry):
    restrictions.restrict(
        actor=user_with("kantoku-r"), kind="dv_support", reason="支援措置", starts_on=D, fuhyo_entry=entry
    )
    entry.refresh_from_db()


def test_search_by_honseki_hittousha_name_and_kana(koseki_client, family):
    koseki = family[0]
    other = KosekiFactory(honseki_address="四谷一丁目9番", hittousha_surname="鈴木", hittousha_given_name="一郎")
    FuhyoEntryFactory(koseki=other, position=1, surname="鈴木", surname_kana="スズキ", given_name="一郎")
    for params in (
        {"honseki": koseki.honseki_address[:6]},
        {"hittousha": "山"},
        {"hittousha": "山田　太郎"},
        {"hittousha_kana": "やまだ"},
        {"hittousha_kana": "ﾔﾏﾀﾞ ﾀ"},
    ):
        response = koseki_client.get(SEARCH, params)
        found = [line["koseki"] for line in response.context["lines"]]
        assert found == [koseki], params
    assert [ln["koseki"] for ln in koseki_client.get(SEARCH, {"hittousha": "一"}).context["lines"]] == [other]


def test_search_logs_conditions_and_koseki_ids_without_count(koseki_client, family):
    koseki = family[0]
    mark = last_id()
    with CaptureQueriesContext(connection) as queries:
        koseki_client.get(SEARCH, {"hittousha": "山田"})
    (entry,) = entries_after(mark, category=AuditLogEntry.Category.ACCESS)
    assert (entry.outcome, entry.subject_kind, entry.subject_ids) == ("shown", "koseki", [koseki.pk])
    assert entry.conditions == {"hittousha": "山田", "status": "all"}
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_search_pages_newest_first(koseki_client, monkeypatch):
    monkeypatch.setattr("koseki_fuhyo.views.search.PAGE_SIZE", 2)
    made = [KosekiFactory(hittousha_surname="森") for _ in range(3)]
    first = koseki_client.get(SEARCH, {"hittousha": "森"})
    assert [ln["koseki"] for ln in first.context["lines"]] == made[::-1][:2]
    second = koseki_client.get(f"{SEARCH}?{first.context['next_query']}")
    assert [ln["koseki"] for ln in second.context["lines"]] == made[:1]
    assert second.context["next_query"] is None


def test_short_honseki_alone_is_refused_next_to_the_field(koseki_client):
    body = koseki_client.get(SEARCH, {"honseki": "北"}).content.decode()
    assert 'id="id_honseki_error"' in body
    assert "3文字以上" in body


def test_search_masks_a_koseki_whose_hittousha_is_restricted(koseki_client, family):
    koseki, head_entry, _, _ = family
    restrict(head_entry)
    body = koseki_client.get(SEARCH, {"hittousha": "山田"}).content.decode()
    assert "閲覧制限あり" in body
    assert "山田　太郎" not in body
    assert page(koseki) not in body


def test_page_shows_every_person_with_address_history(koseki_client, family):
    koseki, head_entry, wife, _ = family
    body = koseki_client.get(page(koseki)).content.decode()
    assert koseki.honseki_address in body
    assert "山田　太郎" in body
    assert "山田　花子（氏名の振り仮名 ヤマダ　ハナコ）" in body
    assert "昭和57年3月3日（1982-03-03）" in body
    assert "東京都渋谷区神南一丁目5番" in body
    assert "令和8年11月1日（2026-11-01）" in body
    assert head_entry.juminhyo_code in body
    assert "（記載なし）" in body  # the wife's 附票 row carries no 住民票コード


def test_page_links_to_the_resident_only_for_a_user_who_may_open_it(client, family):
    koseki, _, _, head = family
    both = user_with("both", "koseki_fuhyo.view_koseki", "registry.view_resident")
    client.force_login(both)
    body = client.get(page(koseki)).content.decode()
    assert reverse("registry:resident", args=[head.pk]) in body
    client.force_login(user_with("koseki-only", "koseki_fuhyo.view_koseki"))
    assert reverse("registry:resident", args=[head.pk]) not in client.get(page(koseki)).content.decode()


def test_restricted_person_on_the_fuhyo_is_masked_and_others_still_shown(koseki_client, family):
    koseki, _, wife, _ = family
    restrict(wife)
    mark = last_id()
    body = koseki_client.get(page(koseki)).content.decode()
    assert "閲覧制限あり" in body
    assert "花子" not in body
    assert "ハナコ" not in body
    assert "神南一丁目5番" not in body
    assert "1982-03-03" not in body
    assert "山田　太郎" in body
    (entry,) = entries_after(mark, category=AuditLogEntry.Category.ACCESS)
    assert entry.subject_kind == "fuhyo_entry"
    assert wife.pk in entry.subject_ids


def test_restricted_hittousha_is_not_named_in_the_heading(koseki_client, family):
    koseki, head_entry, _, _ = family
    restrict(head_entry)
    body = koseki_client.get(page(koseki)).content.decode()
    assert "太郎" not in body
    assert "タロウ" not in body
    assert "山田　花子" in body


def test_granted_user_sees_the_restricted_person(koseki_client, family):
    koseki, _, wife, _ = family
    restrict(wife)
    restrictions.grant(
        actor=user_with("kantoku-g"),
        user=koseki_client.user,
        reason="附票の写しの交付審査",
        expires_at=timezone.now() + dt.timedelta(days=1),
        fuhyo_entry=wife,
    )
    body = koseki_client.get(page(koseki)).content.decode()
    assert "山田　花子" in body
    assert "閲覧制限（許可により表示）" in body


def test_info_provision_code_is_never_shown(koseki_client, family):
    koseki, head_entry, _, _ = family
    IdentifierSymbol.objects.create(
        juminhyo_code=head_entry.juminhyo_code, symbol="SECRET-CODE-456", message_id=uuid4()
    )
    body = koseki_client.get(page(koseki)).content.decode()
    assert "SECRET-CODE-456" not in body
    assert "-456" in body  # the last four characters, masked before them


def test_needs_the_koseki_permission(client, family):
    client.force_login(user_with("madoguchi", "registry.view_resident"))
    mark = last_id()
    assert client.get(page(family[0])).status_code == 403
    assert [e.outcome for e in entries_after(mark)] == ["denied"]


def test_query_count_does_not_grow_with_persons_or_addresses(koseki_client):
    def build(persons: int) -> object:
        koseki = KosekiFactory()
        for i in range(persons):
            entry = FuhyoEntryFactory(koseki=koseki, position=i + 1)
            for n in range(2):
                FuhyoAddress.objects.create(
                    entry=entry,
                    municipality=ward(),
                    address=f"四谷一丁目{n}番",
                    established_on=D,
                    recorded_on=D,
                    reason="転居",
                    is_current=n == 1,
                )
        return koseki

    small, large = build(1), build(6)
    with CaptureQueriesContext(connection) as few:
        koseki_client.get(page(small))
    with CaptureQueriesContext(connection) as many:
        koseki_client.get(page(large))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_koseki_page_starts_each_filing_for_a_user_who_may_accept_filings(client, family):
    """Issue 15, item 8: /filings/ says 「戸籍の画面から開くと…選べます」; the 戸籍 page offers every 届出, opened with
    this 戸籍's members as the persons (?koseki=), and the 届出 screen does offer them."""
    koseki, head_entry, _, _ = family
    client.force_login(user_with("uketsuke", "koseki_fuhyo.view_koseki", "koseki_fuhyo.add_kosekifiling"))
    body = client.get(page(koseki)).content.decode()
    assert "この戸籍で届出を受け付ける" in body
    death = f"{reverse('koseki_filings:death')}?koseki={koseki.pk}"
    marriage = f"{reverse('koseki_filings:marriage')}?koseki={koseki.pk}"
    assert f'href="{death}"' in body
    assert f'href="{marriage}"' in body
    form = client.get(death).content.decode()
    assert f'value="{head_entry.pk}"' in form  # the 筆頭者 offered as the 事件本人


def test_no_filing_entry_without_the_permission_or_on_a_closed_koseki(koseki_client, client, family):
    koseki, _, _, _ = family
    assert "この戸籍で届出を受け付ける" not in koseki_client.get(page(koseki)).content.decode()
    client.force_login(user_with("uketsuke", "koseki_fuhyo.view_koseki", "koseki_fuhyo.add_kosekifiling"))
    koseki.status = "closed"
    koseki.save(update_fields=["status"])
    assert "この戸籍で届出を受け付ける" not in client.get(page(koseki)).content.decode()
