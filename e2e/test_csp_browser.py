"""The Content-Security-Policy in a real browser (Chromium through Playwright, against a live server): Chromium
reports every refused script or style on the console, and none may appear.

- The check itself works: a script added inline to a page is refused and reported (otherwise an empty list of
  violations in the other browser tests would prove nothing).
- The Django admin works under the policy: its scripts are static files, and they run (the permission chooser that
  SelectFilter2.js builds appears); every page linked from the admin index opens without a violation.

The clerk's and the notice desk's journeys (test_clerk_journey.py, test_notice_desk.py) assert the same on theirs."""

import pytest

from registry.tests.factories import ResidentFactory

from .test_clerk_journey import PASSWORD, _login, _shot, browser, watch_csp  # noqa: F401 - fixtures and helpers shared

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _page(browser):  # noqa: F811
    page = browser.new_page(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    return page


def test_an_inline_script_is_refused_and_reported(browser, live_server, django_user_model):  # noqa: F811
    django_user_model.objects.create_user("clerk1", password=PASSWORD)
    page = _page(browser)
    violations = watch_csp(page)
    _login(page, live_server.url, "clerk1")
    with pytest.raises(Exception):  # noqa: B017, PT011 - Playwright's error: the script element never loads
        page.add_script_tag(content="document.body.dataset.inline = 'ran';")
    assert page.evaluate("document.body.dataset.inline") is None  # the script did not run
    assert violations, "Chromium did not report the refused inline script"
    assert "script-src" in violations[0]


def test_the_admin_works_under_the_policy(browser, live_server, django_user_model, reference_data):  # noqa: F811
    django_user_model.objects.create_superuser("admin1", password=PASSWORD)
    resident = ResidentFactory()
    page = _page(browser)
    violations = watch_csp(page)
    base = live_server.url
    _login(page, base, "admin1")

    page.goto(f"{base}/admin/")
    links = page.eval_on_selector_all("#content-main a[href^='/admin/']", "els => els.map(e => e.getAttribute('href'))")
    assert links, "the admin index lists no model"
    for href in dict.fromkeys(links):
        response = page.goto(f"{base}{href}")
        assert response is not None, href
        assert response.status < 500, f"{href}: {response.status}"
        page.wait_for_load_state("load")

    # The admin's own scripts run: SelectFilter2.js turns the permissions list into the two-box chooser.
    page.goto(f"{base}/admin/auth/group/add/")
    page.locator(".selector-chooser").first.wait_for(state="visible")
    _shot(page, "30-admin-under-csp")
    page.goto(f"{base}/admin/registry/resident/{resident.pk}/change/")
    page.wait_for_load_state("load")
    assert violations == []
