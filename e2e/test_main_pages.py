# ruff: noqa: S106 - throwaway passwords of test users
"""Every role's main pages in a real browser (Debian's Chromium, one for the whole module) at 1366×768 and
1920×1080 (issue 15): each page fails the test when

- the header takes more than one line (a menu entry, the user's name or ログアウト below the title's line),
- a table cell with text is narrower than two characters (Japanese wrapping one character per line),
- the page scrolls sideways (`scrollWidth > clientWidth`),
- axe-core (axe-playwright-python, its axe.min.js injected from the installed package: nothing is fetched) finds a
  violation of WCAG 2 A/AA — labels on every input, colour contrast AA … — or of heading order,
- the first elements reached with Tab show no focus ring,
- the browser reports a Content-Security-Policy violation.

Screenshots of every page go to artifacts/screenshots/ as `<width>-<role>-<page>.png` (README: 画面の記録).
The supervisor and the operator log in with the second factor, as in production (the codes are computed like an
authenticator app would, accounts/tests/conftest.py)."""

import os
import time
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.tests.conftest import code_for
from common.context import audit_context
from common.roles import ROLES_BY_KEY, assign_role, ensure_roles
from koseki_fuhyo.models import Koseki
from registry import services
from registry.models import Resident
from registry.services.entries import NewHousehold
from transfers.models import InboundNotice
from transfers.routing import NoticeKind

from .test_clerk_journey import CHROMIUM, SHOTS, chromium, watch_csp

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(240)]

PASSWORD = "e2e-main-pages-dummy-ward"  # noqa: S105 - a throwaway account in a throwaway database
VIEWPORTS = ((1366, 768), (1920, 1080))
TOTP_ROLES = ("監督者", "運用担当")
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]},
    "rules": {"heading-order": {"enabled": True}},
    "resultTypes": ["violations"],
}

# What one page must satisfy, measured in the page: the header on one line, no cell narrower than two characters,
# no sideways scrolling. Returns the list of problems (empty when the page is fine).
LAYOUT_CHECK = """() => {
  const problems = [];
  const header = document.querySelector(".site-header");
  if (header) {
    const title = header.querySelector(".site-title").getBoundingClientRect();
    const parts = header.querySelectorAll(".main-menu > a, .main-menu > details > summary, .who > *");
    for (const part of parts) {
      const box = part.getBoundingClientRect();
      if (box.top >= title.bottom || box.bottom <= title.top) {
        problems.push("header wraps: " + part.textContent.trim() + " is not on the title's line");
      }
      if (box.height > 2.2 * parseFloat(getComputedStyle(part).fontSize)) {
        problems.push("header entry on two lines or more: " + part.textContent.trim());
      }
    }
    if (header.getBoundingClientRect().height > 64) {
      problems.push("header is " + Math.round(header.getBoundingClientRect().height) + " px tall");
    }
  }
  for (const cell of document.querySelectorAll("td, th")) {
    const text = cell.innerText.trim();
    if (!text || cell.offsetParent === null) { continue; }
    const style = getComputedStyle(cell);
    const inner = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (inner < 2 * parseFloat(style.fontSize) - 0.5) {
      problems.push("cell narrower than two characters (" + Math.round(inner) + " px): " + text.slice(0, 30));
    }
  }
  for (const key of document.querySelectorAll("kbd")) {
    if (key.offsetParent !== null && getComputedStyle(key).borderTopStyle !== "solid") {
      problems.push("key badge without the common style: " + key.textContent);
    }
  }
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    problems.push("page scrolls sideways: " + root.scrollWidth + " > " + root.clientWidth);
  }
  return problems;
}"""

# The element focused after Tab and whether the focus is visible (an outline or a shadow).
FOCUS_CHECK = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) { return null; }
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none";
  return {name: el.tagName + " " + (el.textContent || el.name || "").trim().slice(0, 20), ring: ring};
}"""

if CHROMIUM is None and os.environ.get("CI"):
    raise RuntimeError("CI must have Debian's chromium installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the whole module (each role gets a fresh context of its own)."""
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread; the ORM stays sync
    try:
        with chromium() as instance:
            yield instance
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()  # the script is the package's own axe.min.js, read from disk


@pytest.fixture
def world(reference_data, settings):
    """A small dummy ward (seed_dummy: 世帯, 住民票, 戸籍 and 附票), a 転居 that sent a notice, a notice received,
    and the four personas; the second factor is required of 監督者 and 運用担当 as in production."""
    settings.ACCOUNT_REQUIRE_TOTP_FOR = TOTP_ROLES
    call_command("seed_dummy", residents=40, seed=1, no_progress=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
    groups = ensure_roles()
    users = {}
    for key, name in (
        ("resident_clerk", ("窓口", "一郎")),
        ("koseki_clerk", ("戸籍", "二郎")),
        ("supervisor", ("監督", "花子")),
        ("operator", ("運用", "三郎")),
    ):
        user = get_user_model().objects.create_user(
            username=key, password=PASSWORD, last_name=name[0], first_name=name[1]
        )
        assign_role(user, ROLES_BY_KEY[key], groups)
        if ROLES_BY_KEY[key].group_name in TOTP_ROLES:
            TOTPDevice.objects.create(user=user, name="e2e", confirmed=True)
        users[key] = user
    koseki = Koseki.objects.filter(status="current", entries__status="current").order_by("pk").first()
    entry = koseki.entries.filter(status="current").order_by("position").first()
    person = Resident.objects.get(juminhyo_code=entry.juminhyo_code)
    with audit_context(users["resident_clerk"].pk, "e2e"):
        services.move_within(
            [person],
            change_date=timezone.localdate(),
            notified_on=timezone.localdate(),
            new_address=NewHousehold("高田馬場一丁目2番3号"),
        )
    InboundNotice.objects.create(
        message_id="6f1d7a52-0000-4000-8000-000000000001",
        sender="131130",
        kind=NoticeKind.FUHYO_ITEMS,
        schema_version=1,
        payload={"person": {"surname": person.surname, "given_name": person.given_name}},
        payload_digest="0" * 64,
        sent_at=timezone.now(),
        via="http",
        state=InboundNotice.State.WAITING,
    )
    return {"users": users, "person": person, "koseki": koseki}


def _log_in(context, base, user):
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{base}/login/")
    page.get_by_label("職員ID").fill(user.username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_label("パスワード").press("Enter")
    page.wait_for_load_state()
    if "/accounts/otp/" in page.url:  # the second factor: a device with a known key, a code as the app shows it
        assert page.locator(".main-menu").count() == 0, "the menu shows before the second factor"
        assert page.evaluate(LAYOUT_CHECK) == []
        page.screenshot(path=str(SHOTS / f"1366-{user.username.replace('_', '-')}-otp.png"), full_page=True)
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        page.locator("input[name=token]").fill(code_for(device))
        page.locator("input[name=token]").press("Enter")
        page.wait_for_url(f"{base}/")
    return page


def _pages(role, world):
    """(name, path or callable opening the page) of this role's main pages."""
    person, koseki = world["person"], world["koseki"]
    initials = Counter(kana[:1] for kana in Resident.objects.values_list("surname_kana", flat=True))
    kana = initials.most_common(1)[0][0]  # a search with several results
    pages = [("home", "/")]
    if role in ("resident_clerk", "koseki_clerk", "supervisor"):
        pages += [
            ("search", f"{reverse('registry:search')}?kana={kana}&status=all"),
            ("juminhyo", reverse("registry:resident", args=[person.pk])),
            ("inbox", reverse("notices:inbox")),
            ("outbox", reverse("notices:outbox")),
        ]
    if role in ("koseki_clerk", "supervisor"):
        pages += [
            ("koseki", reverse("koseki_fuhyo:koseki", args=[koseki.pk])),
            ("filing-confirm", _death_filing_confirm(koseki)),
        ]
    if role in ("resident_clerk", "supervisor"):
        pages += [("move-in", reverse("registry_changes:move_in"))]
    if role == "supervisor":
        pages += [
            ("audit-log", reverse("audit:log")),
            ("audit-review", reverse("audit:review")),
            ("analysis", reverse("audit:flags")),
        ]
    if role == "operator":
        pages += [("partners", reverse("notices:partners")), ("batch-runs", reverse("audit:batch_runs"))]
    return pages


def _death_filing_confirm(koseki):
    """Opens the 確認 page of a 死亡届 started from the 戸籍 page (its first member chosen)."""

    def open_page(page, base):
        page.goto(f"{base}{reverse('koseki_fuhyo:koseki', args=[koseki.pk])}")
        page.locator(".filing-start").get_by_role("link", name="死亡届", exact=True).click()
        page.wait_for_url(f"{base}{reverse('koseki_filings:death')}?koseki={koseki.pk}")
        page.locator("select[name=subject_entry]").select_option(index=1)
        page.get_by_label("死亡の日").fill(timezone.localdate().isoformat())
        page.get_by_role("button", name="確認へ進む").click()
        page.wait_for_load_state()
        assert page.get_by_role("button", name="記録する").count() == 1, "not on the 確認 page"

    return open_page


def _check_page(page, axe, role, name) -> list[str]:
    problems = []
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        problems += [f"{width} {role} {name}: {p}" for p in page.evaluate(LAYOUT_CHECK)]
        page.screenshot(path=str(SHOTS / f"{width}-{role.replace('_', '-')}-{name}.png"), full_page=True)
    results = axe.run(page, options=AXE_OPTIONS)
    for violation in results.response["violations"]:
        targets = [node["html"][:120] for node in violation["nodes"][:3]]
        problems.append(f"axe {role} {name}: {violation['id']} ({violation['impact']}) at {targets}")
    page.mouse.click(1, 300)  # nothing focused, then the keyboard
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(3):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUS_CHECK)
        if focused is not None and not focused["ring"]:
            problems.append(f"focus not visible {role} {name}: {focused['name']}")
    return problems


def _drop_down_opens(page, base) -> list[str]:
    """A group of the header opens on a click, shows its entries inside the window, Esc closes it, and the Alt+
    shortcut of an entry inside the closed group still opens that entry."""
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{base}/")
    page.locator(".main-menu summary", has_text="監査").click()
    review = page.locator(".menu-pop").get_by_role("link", name="監査記録の確認")
    problems = [] if review.is_visible() else ["the 監査 group does not open"]
    box = page.locator("details.menu-group[open] .menu-pop").bounding_box()
    if box is None or box["x"] + box["width"] > 1366:
        problems.append("the open group leaves the window")
    page.screenshot(path=str(SHOTS / "1366-supervisor-menu-open.png"))
    page.keyboard.press("Escape")
    if page.locator("details.menu-group[open]").count():
        problems.append("Esc leaves the group open")
    page.keyboard.press("Alt+a")  # the shortcut of an entry inside a closed group
    page.wait_for_url(f"{base}{reverse('audit:review')}")
    return problems


def _slash_opens_the_search(page, base):
    """「/」 from any page: the search box of 住民検索; typed in a field it is just a character (issue 15, item 7)."""
    page.goto(f"{base}{reverse('notices:inbox')}")
    page.locator("body").press("/")
    page.wait_for_url(f"{base}{reverse('registry:search')}")
    page.locator("main h1").click()  # away from the autofocused field
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.name") == "name"
    page.keyboard.type("/")
    assert page.get_by_label("氏名", exact=True).input_value() == "/"
    assert page.url == f"{base}{reverse('registry:search')}"


@pytest.mark.parametrize("role", ["resident_clerk", "koseki_clerk", "supervisor", "operator"])
def test_main_pages_read_well_at_1366_and_1920(browser, axe, live_server, world, role):
    started = time.monotonic()
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    context = browser.new_context(locale="ja-JP", viewport={"width": 1366, "height": 768})
    try:
        page = _log_in(context, base, world["users"][role])
        csp_violations = watch_csp(page)
        problems = []
        for name, target in _pages(role, world):
            if callable(target):
                target(page, base)
            else:
                page.goto(f"{base}{target}")
            assert page.url.startswith(base), f"{name}: left the site for {page.url}"
            assert page.locator("main").count() == 1, f"{name}: no page at {page.url}"
            if name == "search":
                assert page.locator("[data-results] a.row-link").count() > 0, "the search found nobody"
            problems += _check_page(page, axe, role, name)
        if role == "supervisor":
            problems += _drop_down_opens(page, base)
        if role != "operator":
            _slash_opens_the_search(page, base)
        assert not problems, "\n".join(problems)
        assert csp_violations == []
    finally:
        context.close()
    assert time.monotonic() - started < 90, "the walk of one role should take well under a minute and a half"
