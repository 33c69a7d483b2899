"""The bare view of the web benchmark (common/bench_views.py): mounted under /bench/ only when BENCH_ENDPOINTS is
on. config/urls.py reads the setting once, at import: the test reloads it under each value and restores it."""

import importlib

import pytest
from django.test import override_settings
from django.urls import NoReverseMatch, clear_url_caches, reverse

import config.urls
from bench.views import BARE_BODY


def _reload_urls() -> None:
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.fixture
def bench_urls_on():
    try:
        with override_settings(BENCH_ENDPOINTS=True):
            _reload_urls()
            yield
    finally:
        _reload_urls()  # back to the URLs of the default settings, for the tests that follow


@pytest.mark.django_db
def test_the_bare_view_is_not_mounted_by_default(client, clerk):
    client.force_login(clerk)
    assert client.get("/bench/bare/").status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("bench_bare")


@pytest.mark.django_db
def test_the_bare_view_answers_a_constant_when_bench_endpoints_is_on(client, bench_urls_on):
    assert reverse("bench_bare") == "/bench/bare/"
    response = client.get("/bench/bare/")
    assert response.status_code == 200
    assert response.content == BARE_BODY


@pytest.mark.django_db
def test_the_bare_view_refuses_if_mounted_while_the_setting_is_off(client, bench_urls_on):
    with override_settings(BENCH_ENDPOINTS=False):
        assert client.get("/bench/bare/").status_code == 404
