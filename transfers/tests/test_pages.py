"""The notice screens: 送信通知 (list, detail, 再送), 受信通知 (list, detail, the clerk's actions), 通信相手, all behind
the gate; the 情報提供用個人識別符号 masked on the 附票 page."""

import base64
import datetime as dt
import hashlib
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import restrictions
from audit.log import record_transmission
from audit.models import AuditLogEntry
from audit.tests.screens import PASSWORD, entries_after, last_id
from common.roles import KOSEKI_CLERK, assign_role, ensure_roles
from koseki_fuhyo.tests.factories import link_to_koseki
from registry import services
from registry.models import UsedSubmissionToken
from registry.services.entries import NewHousehold
from registry.tests.factories import ResidentFactory
from transfers.models import IdentifierSymbol, InboundNotice, OutboundNotice, Partner
from transfers.routing import NoticeKind

pytestmark = pytest.mark.django_db
D = dt.date(2026, 11, 20)
SURNAME, GIVEN = "栗林", "綾香"  # rare enough that finding them on a page means the page shows the person


@pytest.fixture
def groups():
    return ensure_roles()


def _staff(username, role, groups):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    assign_role(user, role, groups)
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def person():
    return ResidentFactory(surname=SURNAME, given_name=GIVEN, surname_kana="クリバヤシ", given_name_kana="アヤカ")


@pytest.fixture
def sent_notice(person, as_clerk):
    """A real 附票記載事項通知 to 渋谷区, written by a 転居 of the person."""
    services.move_within([person], change_date=D, notified_on=D, new_address=NewHousehold("高田馬場一丁目1番"))
    return OutboundNotice.objects.get(event__resident=person)


def _notice(**fields) -> OutboundNotice:
    values = {"kind": NoticeKind.FUHYO_ITEMS, "receiver": "131130", "payload": {"person": {"surname": SURNAME}}}
    values.update(fields)
    created_at = values.pop("created_at", None)
    notice = OutboundNotice.objects.create(**values)
    if created_at is not None:  # auto_now_add: move the row back in time
        OutboundNotice.objects.filter(pk=notice.pk).update(created_at=created_at)
        notice.refresh_from_db()
    return notice


def _inbound(**fields) -> InboundNotice:
    values = {
        "message_id": uuid.uuid4(),
        "sender": "131130",
        "kind": NoticeKind.FUHYO_ITEMS,
        "schema_version": 1,
        "payload": {"person": {"surname": SURNAME, "given_name": GIVEN}},
        "payload_digest": "0" * 64,
        "sent_at": timezone.now(),
        "via": "http",
        "state": InboundNotice.State.WAITING,
    }
    values.update(fields)
    return InboundNotice.objects.create(**values)


def _short(notice) -> str:
    return str(notice.message_id)[:8]


def _row_of(body: str, notice) -> str:
    """The <tr> of the list that links to the notice."""
    match = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*?{_short(notice)}(?:(?!</tr>).)*</tr>", body, re.S)
    assert match, f"no row for {_short(notice)}"
    return match[0]


def _token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode())[1]


def _access(mark) -> list[AuditLogEntry]:
    return entries_after(mark, category=AuditLogEntry.Category.ACCESS)


# --- 送信通知の一覧 -----------------------------------------------------------------------------------------------


def test_outbox_list_shows_kind_receiver_state_and_no_personal_data(client, staff_clerk, sent_notice):
    client.force_login(staff_clerk)
    mark = last_id()
    response = client.get(reverse("notices:outbox"))
    assert response.status_code == 200
    body = response.content.decode()
    row = _row_of(body, sent_notice)
    assert "戸籍の附票記載事項通知" in row
    assert "東京都渋谷区" in row
    assert "送信待ち" in row
    assert SURNAME not in body
    assert GIVEN not in body
    assert sent_notice.juminhyo_code not in body
    assert [(e.action, e.outcome) for e in _access(mark)] == [("outbox.notice_list", "shown")]


def test_outbox_filters_by_state_kind_receiver_and_period(client, supervisor):
    failed = _notice(state=OutboundNotice.State.FAILED, receiver="271004")
    jlis = _notice(kind=NoticeKind.JLIS_FUHYO, receiver="J-LIS")
    old = _notice(created_at=timezone.now() - dt.timedelta(days=30))
    client.force_login(supervisor)

    def shown(**query) -> set[int]:
        body = client.get(reverse("notices:outbox"), query).content.decode()
        return {n.pk for n in (failed, jlis, old) if _short(n) in body}

    assert shown() == {failed.pk, jlis.pk, old.pk}
    assert shown(state="failed") == {failed.pk}
    assert shown(kind="jlis_fuhyo") == {jlis.pk}
    assert shown(receiver="J-LIS") == {jlis.pk}
    assert shown(receiver="271004") == {failed.pk}
    today = timezone.localtime(timezone.now()).date()  # the clock's day (the tests freeze only localdate())
    assert shown(date_to=(today - dt.timedelta(days=7)).isoformat()) == {old.pk}
    assert shown(date_from=(today - dt.timedelta(days=1)).isoformat(), date_to=today.isoformat()) == {
        failed.pk,
        jlis.pk,
    }
    wrong = client.get(reverse("notices:outbox"), {"date_from": "R8.11.25", "date_to": "R8.11.1"})
    assert "期間の終わりは始まりより後の日にしてください。" in wrong.content.decode()
    body = client.get(reverse("notices:outbox"), {"receiver": "J-LIS"}).content.decode()
    assert "J-LIS（地方公共団体情報システム機構）" in body


@pytest.mark.parametrize("name", ["notices:outbox", "notices:inbox"])
def test_both_lists_share_one_layout_and_take_dates_in_wareki(client, supervisor, name):
    client.force_login(supervisor)
    response = client.get(reverse(name), {"date_from": "R8.11.1", "date_to": "2026-11-30"})
    assert "transfers/_list.html" in [t.name for t in response.templates]
    body = response.content.decode()
    assert 'value="令和8年11月1日（2026-11-01）"' in body  # common.forms.WarekiDateField, as on the 異動 forms
    assert 'value="令和8年11月30日（2026-11-30）"' in body
    assert f'action="{reverse(name)}"' in body


def test_overdue_and_failed_rows_stand_out_and_are_counted(client, supervisor, settings):
    settings.TRANSFERS_OVERDUE_AFTER = 600
    long_ago = timezone.now() - dt.timedelta(seconds=601)
    fresh = _notice()
    late = _notice(state=OutboundNotice.State.SENT, created_at=long_ago)
    failed = _notice(state=OutboundNotice.State.FAILED)
    unconnected = _notice(state=OutboundNotice.State.UNCONNECTED)  # fresh, but nothing will send it
    done = _notice(state=OutboundNotice.State.ACKNOWLEDGED, created_at=long_ago)
    client.force_login(supervisor)
    body = client.get(reverse("notices:outbox")).content.decode()
    assert re.search(r'class="overdue-count">3件<', body)
    assert 'class="overdue"' in _row_of(body, late)
    assert 'class="overdue failed"' in _row_of(body, failed)
    assert "overdue" in _row_of(body, unconnected)
    assert "送信先未接続" in _row_of(body, unconnected)
    assert "overdue" not in _row_of(body, fresh)
    assert "overdue" not in _row_of(body, done)
    only = client.get(reverse("notices:outbox"), {"overdue": "on"}).content.decode()
    shown = {n.pk for n in (fresh, late, failed, unconnected, done) if _short(n) in only}
    assert shown == {late.pk, failed.pk, unconnected.pk}


def test_no_overdue_says_so(client, supervisor):
    _notice()
    client.force_login(supervisor)
    assert "遅延・失敗・未接続の通知はありません。" in client.get(reverse("notices:outbox")).content.decode()


def test_outbox_pages_by_id_without_counting(client, supervisor):
    notices = [_notice() for _ in range(53)]
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(reverse("notices:outbox")).content.decode()
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts
    assert all("LIMIT" in sql.upper() for sql in counts)
    assert _short(notices[-1]) in first
    assert _short(notices[2]) not in first
    next_link = re.search(r'href="\?([^"]*after=\d+[^"]*)" rel="next"', first)[1].replace("&amp;", "&")
    second = client.get(reverse("notices:outbox") + "?" + next_link).content.decode()
    assert {n.pk for n in notices if _short(n) in second} == {n.pk for n in notices[:3]}
    assert 'rel="next"' not in second
    assert "最新に戻る" in second


# --- 送信通知の詳細 -----------------------------------------------------------------------------------------------


def test_outbox_detail_shows_payload_history_and_names_the_person(client, staff_clerk, sent_notice, person):
    record_transmission(
        "sent", message_id=str(sent_notice.message_id), kind=sent_notice.kind, partner="131130", details={"attempt": 1}
    )
    other = _notice()
    record_transmission("failed", message_id=str(other.message_id), kind=other.kind, partner="131130")
    client.force_login(staff_clerk)
    mark = last_id()
    response = client.get(reverse("notices:outbound", args=[sent_notice.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert str(sent_notice.message_id) in body
    assert SURNAME in body
    assert GIVEN in body
    assert "高田馬場一丁目1番" in body
    history = re.search(r'id="history-title".*?</section>', body, re.S)[0]
    assert "<code>sent</code>" in history
    assert "<code>failed</code>" not in history
    assert reverse("registry:resident", args=[person.pk]) in body
    assert "再送" not in re.sub(r"再送指示", "", body.split('id="payload-title"')[1])  # no resend form for a clerk
    (entry,) = _access(mark)
    assert (entry.action, entry.outcome, entry.subject_kind, entry.subject_ids) == (
        "outbox.notice_detail",
        "shown",
        "resident",
        [person.pk],
    )


def test_outbox_detail_of_a_restricted_person_answers_404(client, staff_clerk, supervisor, sent_notice, person):
    restrictions.restrict(
        actor=supervisor, kind="dv_support", reason="支援措置", starts_on=dt.date(2026, 11, 1), resident=person
    )
    client.force_login(staff_clerk)
    mark = last_id()
    assert client.get(reverse("notices:outbound", args=[sent_notice.pk])).status_code == 404
    assert [(e.outcome, e.subject_ids) for e in _access(mark)] == [("denied", [person.pk])]
    list_body = client.get(reverse("notices:outbox")).content.decode()
    assert _short(sent_notice) in list_body  # the list names nobody, so it still shows the row


# --- 再送 -------------------------------------------------------------------------------------------------------


def test_resend_needs_a_reason_a_confirmation_and_is_logged_once(client, supervisor):
    notice = _notice(state=OutboundNotice.State.FAILED, attempts=20, last_error="接続できません")
    client.force_login(supervisor)
    detail = client.get(reverse("notices:outbound", args=[notice.pk])).content.decode()
    assert 'action="{}"'.format(reverse("notices:resend", args=[notice.pk])) in detail
    url = reverse("notices:resend", args=[notice.pk])

    empty = client.post(url, {"reason": "  ", "step": "confirm"})
    assert empty.status_code == 200
    assert "再送の理由を入力してください。" in empty.content.decode()

    confirm = client.post(url, {"reason": "相手先のサーバ復旧の連絡（電話）", "step": "confirm"})
    assert "再送する" in confirm.content.decode()
    notice.refresh_from_db()
    assert (notice.state, notice.resent_count) == ("failed", 0)  # the 確認 page changes nothing

    mark = last_id()
    commit = {"reason": "相手先のサーバ復旧の連絡（電話）", "step": "commit", "token": _token(confirm)}
    done = client.post(url, commit)
    assert done.status_code == 302
    assert done["Location"] == reverse("notices:outbound", args=[notice.pk])
    notice.refresh_from_db()
    assert (notice.state, notice.resent_count, notice.attempts) == ("pending", 1, 0)
    resent = entries_after(mark, category=AuditLogEntry.Category.TRANSMISSION)
    assert [(e.action, e.username, e.conditions["message_id"]) for e in resent] == [
        ("resent", "kantoku", str(notice.message_id))
    ]
    assert resent[0].conditions["reason"] == "相手先のサーバ復旧の連絡（電話）"
    page = client.get(done["Location"]).content.decode()
    assert f"通知 {_short(notice)} を再送の対象にしました。" in page
    assert "<code>resent</code>" in page  # in the history

    again = client.post(url, commit, follow=True)
    assert "二重送信" in again.content.decode()
    assert len(entries_after(mark, category=AuditLogEntry.Category.TRANSMISSION)) == 1
    # The one-time key of the 確認 page is spent in the table of used keys (common.confirm), not in the session.
    used = UsedSubmissionToken.objects.values_list("purpose", "result_url")
    assert list(used) == [("notices:resend", done["Location"])]


def test_resend_refused_by_the_service_shows_why(client, supervisor):
    notice = _notice(state=OutboundNotice.State.ACKNOWLEDGED)
    client.force_login(supervisor)
    url = reverse("notices:resend", args=[notice.pk])
    confirm = client.post(url, {"reason": "念のため", "step": "confirm"})
    refused = client.post(url, {"reason": "念のため", "step": "commit", "token": _token(confirm)})
    assert refused.status_code == 200
    assert "再送できるのは" in refused.content.decode()
    notice.refresh_from_db()
    assert (notice.state, notice.resent_count) == ("acknowledged", 0)


def test_a_clerk_may_not_resend(client, staff_clerk):
    notice = _notice(state=OutboundNotice.State.FAILED)
    client.force_login(staff_clerk)
    mark = last_id()
    answer = client.post(reverse("notices:resend", args=[notice.pk]), {"reason": "x", "step": "confirm"})
    assert answer.status_code == 403
    assert [(e.outcome, e.conditions) for e in entries_after(mark)] == [
        ("denied", {"missing_permission": ["transfers.resend_outboundnotice"]})
    ]
    notice.refresh_from_db()
    assert notice.resent_count == 0


# --- 受信通知 ---------------------------------------------------------------------------------------------------


def test_inbox_lists_waiting_first_counts_them_and_shows_no_personal_data(client, staff_clerk):
    done_new = _inbound(state=InboundNotice.State.DONE, resolution="dismissed")
    waiting_old = _inbound()
    applied = _inbound(state=InboundNotice.State.APPLIED, sender="J-LIS", kind=NoticeKind.HONSEKI_CHECK)
    InboundNotice.objects.filter(pk=waiting_old.pk).update(received_at=timezone.now() - dt.timedelta(days=3))
    done_new.save()  # the newest id is not waiting: it still comes after the waiting one
    client.force_login(staff_clerk)
    body = client.get(reverse("notices:inbox")).content.decode()
    assert re.search(r'class="waiting-count">1件<', body)
    assert body.index(_short(waiting_old)) < body.index(_short(done_new))
    assert 'class="waiting"' in _row_of(body, waiting_old)
    assert SURNAME not in body
    assert GIVEN not in body

    def shown(**query) -> set[int]:
        page = client.get(reverse("notices:inbox"), query).content.decode()
        return {n.pk for n in (done_new, waiting_old, applied) if _short(n) in page}

    assert shown(state="waiting") == {waiting_old.pk}
    assert shown(sender="J-LIS") == {applied.pk}
    assert shown(kind="honseki_check") == {applied.pk}
    today = timezone.localtime(timezone.now()).date()
    assert shown(date_to=(today - dt.timedelta(days=2)).isoformat()) == {waiting_old.pk}


def test_inbox_pages_waiting_rows_then_the_others():
    from transfers import selectors

    waiting = [_inbound() for _ in range(3)]
    done = [_inbound(state=InboundNotice.State.DONE) for _ in range(2)]
    seen, after = [], ""
    while True:
        page = selectors.inbox_page(selectors.InboxFilter(), after=after, size=2)
        seen += [n.pk for n in page.rows]
        if not page.next_key:
            break
        after = page.next_key
    assert seen == [n.pk for n in reversed(waiting)] + [n.pk for n in reversed(done)]


@pytest.fixture
def in_koseki(person):
    """The person with a 附票 row in a 戸籍 of this ward."""
    entry = link_to_koseki(person)
    person.refresh_from_db()
    return entry


def _fuhyo_notice(person, entry, **fields) -> InboundNotice:
    notified = {
        "juminhyo_code": person.juminhyo_code,
        "surname": SURNAME,
        "given_name": "彩香",  # differs from 綾香
        "surname_kana": "クリバヤシ",
        "given_name_kana": "アヤカ",
        "birth_date": "1980-05-01",
        "sex": "2",
        "honseki_municipality": "131041",
        "honseki_address": "西新宿二丁目1番",
        "hittousha_name": f"{SURNAME}　{GIVEN}",
        "address_municipality": "131130",
        "address": "神南一丁目2番",
        "katagaki": None,
        "address_established_on": "2026-11-01",
    }
    return _inbound(
        payload={
            "person": notified,
            "change": {
                "reason": "転居",
                "change_class": "記載",
                "change_date": "2026-11-01",
                "notified_on": "2026-11-02",
                "previous_address": None,
                "new_address": "神南一丁目2番",
            },
            "before": None,
        },
        juminhyo_code=person.juminhyo_code,
        fuhyo_entry=entry,
        differences=[
            {"item": "given_name", "label": "名", "notified": "彩香", "koseki": GIVEN},
            {"item": "sex", "label": "性別", "notified": "2", "koseki": "1"},
        ],
        problem="戸籍の記載と一致しない項目があります。",
        **fields,
    )


def test_inbox_detail_side_by_side_with_differences_highlighted(client, staff_clerk, person, in_koseki):
    inbound = _fuhyo_notice(person, in_koseki)
    client.force_login(staff_clerk)
    mark = last_id()
    body = client.get(reverse("notices:inbound", args=[inbound.pk])).content.decode()
    compare = re.search(r'class="compare-table".*?</table>', body, re.S)[0]
    differing = re.findall(r'<tr class="differs">(.*?)</tr>', compare, re.S)
    assert len(differing) == 2
    assert "彩香" in differing[0]
    assert GIVEN in differing[0]
    assert "女" in differing[1]
    assert "男" in differing[1]
    assert re.search(r"<tr><th scope=\"row\">氏</th><td>栗林</td><td>（一致）</td></tr>", compare)
    for label in ("職権処理を確定", "本籍照合通知を送る", "修正済にする", "対応不要として完了"):
        assert label in body
    assert f"附票 #{in_koseki.pk}" in body
    assert "#entry-" not in body
    (entry,) = _access(mark)
    assert entry.conditions == {"inbound_id": inbound.pk, "fuhyo_entry_ids": [in_koseki.pk]}


def test_inbox_detail_links_the_koseki_clerk_to_the_fuhyo(client, groups, person, in_koseki):
    inbound = _fuhyo_notice(person, in_koseki)
    client.force_login(_staff("koseki-tantou", KOSEKI_CLERK, groups))
    body = client.get(reverse("notices:inbound", args=[inbound.pk])).content.decode()
    assert reverse("koseki_fuhyo:koseki", args=[in_koseki.koseki_id]) + f"#entry-{in_koseki.pk}" in body


def test_inbox_detail_offers_only_the_actions_that_fit(client, supervisor, person):
    check = _inbound(kind=NoticeKind.HONSEKI_CHECK, payload={"juminhyo_code": "x"}, resident=person)
    done = _inbound(state=InboundNotice.State.DONE, resolution="dismissed")
    client.force_login(supervisor)
    body = client.get(reverse("notices:inbound", args=[check.pk])).content.decode()
    assert "修正済にする" in body
    assert "対応不要として完了" in body
    assert "本籍照合通知を送る" not in body
    assert "職権処理を確定</button>" not in body
    assert reverse("registry:resident", args=[person.pk]) in body
    body = client.get(reverse("notices:inbound", args=[done.pk])).content.decode()
    assert "</button>" not in body.split('id="compare-title"')[1].split('id="payload-title"')[0]
    blocked = client.get(reverse("notices:resolve", args=[done.pk])).content.decode()
    assert "この通知は処理待ちではありません（処理済）。" in blocked


def test_inbox_detail_of_a_restricted_person_answers_404(client, staff_clerk, supervisor, person, in_koseki):
    inbound = _fuhyo_notice(person, in_koseki)
    restrictions.restrict(
        actor=supervisor, kind="dv_support", reason="支援措置", starts_on=dt.date(2026, 11, 1), resident=person
    )
    client.force_login(staff_clerk)
    mark = last_id()
    assert client.get(reverse("notices:inbound", args=[inbound.pk])).status_code == 404
    assert client.get(reverse("notices:resolve", args=[inbound.pk])).status_code == 404
    assert [e.outcome for e in _access(mark)] == ["denied", "denied"]


def _resolve(client, inbound, action, note=""):
    url = reverse("notices:resolve", args=[inbound.pk])
    confirm = client.post(url, {"action": action, "note": note, "step": "confirm"})
    assert confirm.status_code == 200
    assert "記録する" in confirm.content.decode(), confirm.content.decode()
    inbound.refresh_from_db()
    assert inbound.state == InboundNotice.State.WAITING  # the 確認 page changes nothing
    return client.post(url, {"action": action, "note": note, "step": "commit", "token": _token(confirm)})


def test_dismiss_needs_a_note_and_is_logged(client, staff_clerk):
    inbound = _inbound()
    client.force_login(staff_clerk)
    url = reverse("notices:resolve", args=[inbound.pk])
    missing = client.post(url, {"action": "dismiss", "note": "", "step": "confirm"})
    assert "「対応不要として完了」には処理メモが必要です。" in missing.content.decode()
    mark = last_id()
    done = _resolve(client, inbound, "dismiss", "同じ内容の通知が先に処理済")
    assert done.status_code == 302
    inbound.refresh_from_db()
    assert (inbound.state, inbound.resolution, inbound.resolved_by_id, inbound.resolution_note) == (
        "done",
        "dismissed",
        staff_clerk.pk,
        "同じ内容の通知が先に処理済",
    )
    logged = entries_after(mark, category=AuditLogEntry.Category.TRANSMISSION)
    assert [(e.action, e.username) for e in logged] == [("resolved", "madoguchi")]
    page = client.get(done["Location"]).content.decode()
    assert "「対応不要として完了」で処理しました。" in page


def test_mark_corrected(client, staff_clerk, person):
    inbound = _inbound(kind=NoticeKind.HONSEKI_CHECK, payload={"juminhyo_code": person.juminhyo_code}, resident=person)
    client.force_login(staff_clerk)
    assert _resolve(client, inbound, "mark_corrected", "職権修正で本籍を訂正").status_code == 302
    inbound.refresh_from_db()
    assert (inbound.state, inbound.resolution) == ("done", "corrected")


def test_send_honseki_check_writes_the_reply(client, staff_clerk, person, in_koseki):
    inbound = _fuhyo_notice(person, in_koseki)
    client.force_login(staff_clerk)
    assert _resolve(client, inbound, "send_honseki_check").status_code == 302
    inbound.refresh_from_db()
    (reply,) = inbound.replies.all()
    assert (inbound.resolution, reply.kind, reply.receiver, reply.actor_id) == (
        "check_sent",
        "honseki_check",
        "131130",
        staff_clerk.pk,
    )
    body = client.get(reverse("notices:inbound", args=[inbound.pk])).content.decode()
    assert reverse("notices:outbound", args=[reply.pk]) in body


def test_confirm_a_birth_into_the_household_the_clerk_chose(client, staff_clerk):
    from registry.models import Resident

    mother = ResidentFactory(surname=SURNAME, given_name=GIVEN)
    household = mother.household
    payload = {
        "filing": {"kind": "birth", "filed_on": "2026-11-20", "accepted_on": "2026-11-20"},
        "person": {
            "role": "subject",
            "juminhyo_code": None,
            "surname": SURNAME,
            "given_name": "陽菜",
            "surname_kana": "クリバヤシ",
            "given_name_kana": "ヒナ",
            "birth_date": "2026-11-15",
            "sex": "2",
            "address": household.address,
            "changes": {
                "entered": "birth",
                "honseki_municipality": "131130",
                "honseki_address": "宇田川町1番",
                "hittousha_name": f"{SURNAME}　{GIVEN}",
            },
            "removed": False,
        },
    }
    inbound = _inbound(kind=NoticeKind.JUMINHYO_ITEMS, payload=payload, problem="世帯を確認して確定してください。")
    client.force_login(staff_clerk)
    url = reverse("notices:resolve", args=[inbound.pk])
    detail = client.get(reverse("notices:inbound", args=[inbound.pk])).content.decode()
    assert 'name="household_number"' in detail
    unknown = client.post(url, {"action": "confirm", "household_number": "0000000000", "step": "confirm"})
    assert "この世帯番号の世帯（現存）がありません。" in unknown.content.decode()
    confirm = client.post(url, {"action": "confirm", "step": "confirm"})
    missing = client.post(url, {"action": "confirm", "step": "commit", "token": _token(confirm)})
    assert "記載する世帯を指定してください。" in missing.content.decode()  # from the service, beside the field
    done = _resolve_with(client, inbound, {"action": "confirm", "household_number": household.number})
    assert done.status_code == 302
    child = Resident.objects.get(given_name="陽菜")
    assert (child.household_id, child.relationship) == (household.pk, "子")
    inbound.refresh_from_db()
    assert (inbound.state, inbound.resolution, inbound.resident_id) == ("done", "confirmed", child.pk)


def _resolve_with(client, inbound, data):
    url = reverse("notices:resolve", args=[inbound.pk])
    confirm = client.post(url, {**data, "step": "confirm"})
    assert "記録する" in confirm.content.decode(), confirm.content.decode()
    return client.post(url, {**data, "step": "commit", "token": _token(confirm)})


def test_an_action_that_does_not_fit_is_refused(client, staff_clerk):
    inbound = _inbound(kind=NoticeKind.HONSEKI_CHECK, payload={})
    client.force_login(staff_clerk)
    answer = client.post(
        reverse("notices:resolve", args=[inbound.pk]), {"action": "send_honseki_check", "step": "confirm"}
    )
    assert "この処理は選べません。" in answer.content.decode()


def test_the_operator_may_not_open_the_inbox(client, operator):
    inbound = _inbound()
    client.force_login(operator)
    mark = last_id()
    assert client.get(reverse("notices:inbox")).status_code == 403
    assert client.get(reverse("notices:inbound", args=[inbound.pk])).status_code == 403
    assert client.get(reverse("notices:outbox")).status_code == 403  # payloads name persons (issue 12)
    assert client.get(reverse("notices:partners")).status_code == 200
    assert [e.outcome for e in _access(mark)] == ["denied", "denied", "denied", "shown"]


def test_a_clerk_without_the_permission_may_not_resolve(client):
    from audit.tests.screens import user_with

    viewer = user_with("viewer", "transfers.view_inboundnotice")
    inbound = _inbound()
    client.force_login(viewer)
    assert "対応不要として完了" not in client.get(reverse("notices:inbound", args=[inbound.pk])).content.decode()
    mark = last_id()
    answer = client.post(reverse("notices:resolve", args=[inbound.pk]), {"action": "dismiss", "note": "x"})
    assert answer.status_code == 403
    assert [e.outcome for e in entries_after(mark)] == ["denied"]
    inbound.refresh_from_db()
    assert inbound.state == "waiting"


# --- 通信相手 ---------------------------------------------------------------------------------------------------


def test_partners_show_fingerprints_not_keys(client, operator, staff_clerk):
    sign = base64.b64encode(bytes(range(32))).decode()
    box = base64.b64encode(bytes(range(32, 64))).decode()
    Partner.objects.create(
        code="131130",
        name="渋谷区",
        transport="http",
        endpoint="http://127.0.0.1:9/transfers/inbound/",
        sign_public=sign,
        box_public=box,
        consecutive_failures=4,
        paused_until=timezone.now() + dt.timedelta(minutes=5),
    )
    client.force_login(operator)
    body = client.get(reverse("notices:partners")).content.decode()
    assert "渋谷区" in body
    assert "http://127.0.0.1:9/transfers/inbound/" in body
    assert "休止中" in body
    assert hashlib.sha256(bytes(range(32))).hexdigest()[:8] in body
    assert sign not in body
    assert box not in body
    client.force_login(staff_clerk)
    assert client.get(reverse("notices:partners")).status_code == 403


# --- Menu and the 附票 page -------------------------------------------------------------------------------------


def test_menu_entries_by_role(client, staff_clerk, operator):
    client.force_login(staff_clerk)
    home = client.get(reverse("home")).content.decode()
    assert "送信通知" in home
    assert "受信通知" in home
    client.force_login(operator)
    home = client.get(reverse("home")).content.decode()
    assert "通信相手" in home
    assert "送信通知" not in home
    assert "受信通知" not in home


def test_symbol_masked_on_the_fuhyo_page_never_in_clear(client, groups, person, in_koseki):
    symbol = "QX7Z" * 8 + "ABCD"
    IdentifierSymbol.objects.create(juminhyo_code=person.juminhyo_code, symbol=symbol, message_id=uuid.uuid4())
    koseki = _staff("koseki-tantou", KOSEKI_CLERK, groups)
    client.force_login(koseki)
    mark = last_id()
    body = client.get(reverse("koseki_fuhyo:koseki", args=[in_koseki.koseki_id])).content.decode()
    assert "情報提供用個人識別符号" in body
    assert "＊＊＊＊＊＊＊＊ABCD" in body
    assert "QX7Z" not in body
    assert all("QX7Z" not in str(e.conditions) for e in entries_after(mark))


def test_no_symbol_no_line(client, groups, person, in_koseki):
    koseki = _staff("koseki-tantou", KOSEKI_CLERK, groups)
    client.force_login(koseki)
    body = client.get(reverse("koseki_fuhyo:koseki", args=[in_koseki.koseki_id])).content.decode()
    assert "情報提供用個人識別符号" not in body
