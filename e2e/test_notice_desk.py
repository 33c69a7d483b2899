"""The notice screens in a real browser (Playwright + Debian's Chromium against a live server).

A 附票記載事項通知 from 渋谷区 that disagrees with our 戸籍 waits in the inbox; the 戸籍 clerk sees the values side by
side and answers with a 本籍照合通知 through the 確認 screen. A notice to a partner that never answered has failed;
the supervisor sees it highlighted in the outbox and re-sends it with a reason. Screenshots go to
artifacts/screenshots/ (README: 画面の記録)."""

import datetime as dt

import pytest

from audit.models import AuditLogEntry
from common.juminhyo_codes import juminhyo_code_for
from common.roles import KOSEKI_CLERK, SUPERVISOR, assign_role, ensure_roles
from common.testing.actors import as_system
from registry.services import move_within
from registry.services.entries import NewHousehold
from registry.tests.factories import ResidentFactory
from transfers import delivery, inbound
from transfers.envelope import Identity
from transfers.models import InboundNotice, OutboundNotice
from transfers.tests.inbound_support import SHIBUYA, fuhyo_items, koseki_person, person, register, sealed, ward_fixture

from .test_clerk_journey import PASSWORD, _login, _shot, browser, watch_csp  # noqa: F401 - fixtures and helpers shared

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ward = ward_fixture  # this ward's keys in a tmp dir


def _waiting_inbound(our_keys: Identity, shibuya: Identity) -> InboundNotice:
    entry = koseki_person(juminhyo_code_for(1))
    notified = person(juminhyo_code=entry.juminhyo_code, given_name="太朗")  # 朗 in the notice, 郎 in our 戸籍
    reply = inbound.receive(sealed(shibuya, our_keys, "fuhyo_items", fuhyo_items(notified)), "http")
    assert reply.status == 200
    notice = InboundNotice.objects.get()
    assert notice.state == InboundNotice.State.WAITING
    return notice


def _failed_outbound(settings) -> OutboundNotice:
    resident = ResidentFactory()  # 本籍 in 渋谷区
    day = dt.date(2026, 11, 20)
    with as_system("e2e"):  # a change recorded before the browser opens: services need an actor
        move_within([resident], change_date=day, notified_on=day, new_address=NewHousehold("高田馬場一丁目2番3号"))
    notice = OutboundNotice.objects.get(kind="fuhyo_items", receiver=SHIBUYA)
    settings.TRANSFERS_MAX_ATTEMPTS = 1
    assert delivery.deliver(notice.pk) == delivery.Outcome.FAILED  # the registered endpoint is port 9: refused
    return notice


def test_clerk_answers_a_mismatch_and_supervisor_resends_a_failed_notice(
    browser,  # noqa: F811
    live_server,
    django_user_model,
    reference_data,
    ward,
    settings,
):
    groups = ensure_roles()
    clerk = django_user_model.objects.create_user("koseki1", password=PASSWORD, last_name="戸籍", first_name="二郎")
    boss = django_user_model.objects.create_user("boss1", password=PASSWORD, last_name="監督", first_name="花子")
    assign_role(clerk, KOSEKI_CLERK, groups)
    assign_role(boss, SUPERVISOR, groups)
    shibuya = Identity.generate(SHIBUYA)
    register(shibuya)
    waiting = _waiting_inbound(ward, shibuya)
    failed = _failed_outbound(settings)

    page = browser.new_page(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    csp_violations = watch_csp(page)
    base = live_server.url

    # 1. The 戸籍 clerk finds the waiting notice and sees the values side by side.
    _login(page, base, "koseki1")
    page.get_by_role("link", name="受信通知").first.click()
    page.wait_for_url(f"{base}/notices/inbox/")
    assert page.get_by_text("処理待ち").first.is_visible()
    _shot(page, "11-inbox")
    page.goto(f"{base}/notices/inbox/{waiting.pk}/")
    assert page.get_by_text("太朗").first.is_visible()
    assert page.get_by_text("太郎").first.is_visible()
    _shot(page, "12-inbound-side-by-side")

    # 2. …and answers with a 本籍照合通知 through the 確認 screen.
    page.get_by_label("処理メモ").fill("名の漢字が戸籍と異なるため照合を依頼")
    page.get_by_role("button", name="本籍照合通知を送る").click()
    assert page.get_by_role("button", name="記録する").is_visible()
    _shot(page, "13-honseki-check-confirm")
    page.get_by_role("button", name="記録する").click()
    page.wait_for_load_state("networkidle")
    _shot(page, "14-honseki-check-sent")
    waiting.refresh_from_db()
    assert waiting.state == InboundNotice.State.DONE
    check = OutboundNotice.objects.get(kind="honseki_check")
    assert check.receiver == SHIBUYA
    assert check.in_reply_to_id == waiting.pk
    assert check.payload["differences"][0]["koseki"] != check.payload["differences"][0]["notified"]

    # 3. The supervisor sees the failed notice stand out in the outbox and re-sends it with a reason.
    page.get_by_role("button", name="ログアウト").click()
    _login(page, base, "boss1")
    page.goto(f"{base}/notices/outbox/?overdue=on")
    assert page.get_by_text("送信失敗").first.is_visible()
    _shot(page, "15-outbox-overdue")
    page.goto(f"{base}/notices/outbox/{failed.pk}/resend/")
    page.get_by_label("再送の理由").fill("渋谷区の受信口の復旧を電話で確認した")
    page.get_by_role("button", name="確認へ進む").click()
    page.get_by_role("button", name="再送する").click()
    page.wait_for_load_state("networkidle")
    _shot(page, "16-resent")
    failed.refresh_from_db()
    assert failed.state == OutboundNotice.State.PENDING
    assert failed.resent_count == 1
    resent = AuditLogEntry.objects.filter(category="transmission", action="resent", username="boss1")
    assert [e.conditions["message_id"] for e in resent] == [str(failed.message_id)]
    assert csp_violations == []
