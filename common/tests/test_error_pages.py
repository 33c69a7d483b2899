"""The 400, 403 and 404 pages (common/error_pages.py): Japanese, in the site's layout, with the request id, no
personal data; a restricted person's id and an id that does not exist answer the same page, in the same time within
noise (issue 12, finding 12)."""

import datetime as dt
import re
import statistics
import time

import pytest
from django.test import Client

from audit import restrictions
from audit.tests.screens import user_with
from common.roles import RESIDENT_CLERK, assign_role
from registry.models import Resident
from registry.tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db

SECRETS = ("鬼塚", "蘭丸", "オニヅカ", "検査町九丁目9番9号")
_VARYING = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*|(<code>)[0-9a-f-]{8,}(</code>)')


@pytest.fixture
def restricted():
    """A person under 支援措置 with distinctive strings, restricted by a supervisor."""
    person = ResidentFactory(surname="鬼塚", given_name="蘭丸", surname_kana="オニヅカ", given_name_kana="ランマル")
    Resident.objects.filter(pk=person.pk).update(address="検査町九丁目9番9号")
    boss = user_with("kantoku")
    restrictions.restrict(actor=boss, kind="dv_support", reason="申出", starts_on=dt.date(2026, 11, 1), resident=person)
    return person


@pytest.fixture
def desk():
    clerk = user_with("madoguchi", last_name="窓口")
    assign_role(clerk, RESIDENT_CLERK)
    client = Client()
    client.force_login(clerk)
    return client


def _unknown_id() -> int:
    return (Resident.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1_000


def _without_per_request_values(body: str) -> str:
    """The page less what differs on every request: the CSRF token of the logout form, the request id."""
    return _VARYING.sub(lambda m: (m.group(1) or "") + (m.group(2) or "") + (m.group(3) or ""), body)


def test_a_restricted_and_an_unknown_id_answer_the_same_japanese_page(desk, restricted):
    hidden = desk.get(f"/residents/{restricted.pk}/")
    missing = desk.get(f"/residents/{_unknown_id()}/")
    assert (hidden.status_code, missing.status_code) == (404, 404)
    body = hidden.content.decode()
    assert "見つかりません" in body
    assert "Not Found" not in body
    assert 'class="site-header"' in body  # the site's layout, with the clerk's menu
    assert f"<code>{hidden['X-Request-ID']}</code>" in body  # the id to quote to the operator
    assert not [s for s in SECRETS if s in body]
    assert _without_per_request_values(body) == _without_per_request_values(missing.content.decode())


def test_the_403_page_is_japanese_with_the_request_id(desk):
    response = desk.get("/audit/log/")  # the access log is the supervisors'
    assert response.status_code == 403
    body = response.content.decode()
    assert "この画面は開けません" in body
    assert "403 Forbidden" not in body
    assert f"<code>{response['X-Request-ID']}</code>" in body
    assert 'class="site-header"' in body


def test_the_400_page_is_japanese():
    response = Client().get("/", HTTP_HOST="attacker.invalid")  # not in ALLOWED_HOSTS: Django's 400
    assert response.status_code == 400
    body = response.content.decode()
    assert "要求を処理できません" in body
    assert "Bad Request" not in body
    assert "attacker.invalid" not in body


def test_an_unknown_path_is_the_same_404_page(desk):
    body = desk.get("/no-such-page/").content.decode()
    assert "見つかりません" in body
    assert "no-such-page" not in body  # Django's page would echo the path


@pytest.mark.slow
def test_a_restricted_id_takes_as_long_as_an_unknown_one(desk, restricted):
    """Median latency of 200 requests each, interleaved (so that load on the machine falls on both alike); a bound
    generous enough for a loaded 2-core CI machine, tight enough to catch a path that does real extra work."""
    urls = {"restricted": f"/residents/{restricted.pk}/", "unknown": f"/residents/{_unknown_id()}/"}
    for url in urls.values():  # warm caches (templates, permissions, the URL resolver)
        for _ in range(5):
            desk.get(url)
    times: dict[str, list[float]] = {key: [] for key in urls}
    for i in range(200):
        order = list(urls.items()) if i % 2 == 0 else list(reversed(urls.items()))
        for key, url in order:
            started = time.perf_counter()
            response = desk.get(url)
            times[key].append(time.perf_counter() - started)
            assert response.status_code == 404
    restricted_median, unknown_median = statistics.median(times["restricted"]), statistics.median(times["unknown"])
    bound = max(0.25 * min(restricted_median, unknown_median), 0.002)
    assert abs(restricted_median - unknown_median) < bound, (restricted_median, unknown_median)
