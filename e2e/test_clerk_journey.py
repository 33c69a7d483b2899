"""The clerk's day in a real browser (Playwright driving Debian's headless Chromium against a live server):
log in, search by kana, open a 住民票, record a 転居 through the 確認 screen, see it in the history; then, as a
supervisor, see that access in the access log. Screenshots go to artifacts/screenshots/ (README: 画面の記録)."""

import datetime as dt
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from audit.models import AuditLogEntry
from common.roles import RESIDENT_CLERK, SUPERVISOR, assign_role, ensure_roles
from registry.choices import ChangeReason
from registry.models import ResidentChange
from registry.tests.factories import HouseholdFactory, ResidentFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", settings.BASE_DIR / "artifacts" / "screenshots"))
PASSWORD = "e2e-password-for-dummy-ward"  # noqa: S105 - a throwaway account in a throwaway database
# Flags that keep Chromium quiet on a closed network (no background calls out of the machine).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
]

if CHROMIUM is None and os.environ.get("CI"):
    raise RuntimeError("CI must have Debian's chromium installed (.ci/run installs it)")


@contextmanager
def chromium():
    """Debian's Chromium driven by Playwright (skips the test when it is not installed)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed on this machine (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with chromium() as instance:
        yield instance


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def watch_csp(page) -> list[str]:
    """Chromium's console reports of Content-Security-Policy violations on this page, collected as they happen; a
    test asserts the list empty at its end (an inline script or style, or a script from elsewhere, was refused)."""
    violations: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    return violations


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("職員ID").fill(username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_label("パスワード").press("Enter")
    page.wait_for_url(f"{base}/")


def test_clerk_moves_a_resident_and_the_supervisor_sees_the_access(
    browser, live_server, django_user_model, reference_data
):
    groups = ensure_roles()
    clerk = django_user_model.objects.create_user("clerk1", password=PASSWORD, last_name="窓口", first_name="一郎")
    boss = django_user_model.objects.create_user("boss1", password=PASSWORD, last_name="監督", first_name="花子")
    assign_role(clerk, RESIDENT_CLERK, groups)
    assign_role(boss, SUPERVISOR, groups)
    household = HouseholdFactory(address="西新宿二丁目8番1号", formed_on=dt.date(2015, 4, 1))
    resident = ResidentFactory(
        household=household,
        surname="山田",
        given_name="太郎",
        surname_kana="ヤマダ",
        given_name_kana="タロウ",
        address_established_on=dt.date(2015, 4, 1),
        became_resident_on=dt.date(2015, 4, 1),
    )
    ResidentFactory(surname="田中", given_name="一", surname_kana="タナカ", given_name_kana="ハジメ")

    page = browser.new_page(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    csp_violations = watch_csp(page)
    base = live_server.url

    # 1. Log in and search by kana typed in hiragana.
    _login(page, base, "clerk1")
    _shot(page, "01-menu")
    page.get_by_role("link", name="住民検索").first.click()
    page.get_by_label("氏名カナ").fill("やまだ")
    page.get_by_label("氏名カナ").press("Enter")
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("山田").first.is_visible()
    assert page.get_by_text("田中").count() == 0
    _shot(page, "02-search-results")

    # 2. Open the 住民票.
    page.get_by_role("link", name="山田").first.click()
    page.wait_for_url(f"{base}/residents/{resident.pk}/")
    assert page.get_by_role("heading", name="異動履歴（新しい順）").is_visible()
    _shot(page, "03-juminhyo")

    # 3. Record a 転居 through the 確認 screen.
    page.get_by_role("link", name="転居").first.click()
    page.get_by_role("textbox", name="新しい住所").fill("高田馬場一丁目2番3号")
    page.get_by_role("button", name="確認へ進む").click()
    assert page.get_by_text("高田馬場一丁目2番3号").first.is_visible()
    _shot(page, "04-confirm")
    page.get_by_role("button", name="記録する").click()
    page.wait_for_url(f"{base}/residents/{resident.pk}/")
    assert page.get_by_text("転居").first.is_visible()
    assert page.get_by_text("高田馬場一丁目2番3号").first.is_visible()
    _shot(page, "05-recorded")
    assert ResidentChange.objects.filter(resident=resident, reason=ChangeReason.MOVE_WITHIN).count() == 1

    # 4. The supervisor sees the clerk's access to that person in the access log.
    page.get_by_role("button", name="ログアウト").click()
    _login(page, base, "boss1")
    page.goto(f"{base}/audit/log/?person={resident.pk}")
    assert page.get_by_text("clerk1").first.is_visible()
    _shot(page, "06-access-log")
    seen = (
        AuditLogEntry.objects.filter(username="clerk1", outcome="shown", subject_ids__contains=[resident.pk])
        if settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
        else [
            e for e in AuditLogEntry.objects.filter(username="clerk1", outcome="shown") if resident.pk in e.subject_ids
        ]
    )
    assert len(list(seen)) >= 3  # search results, the 住民票 page, the 転居 screens
    assert csp_violations == []
