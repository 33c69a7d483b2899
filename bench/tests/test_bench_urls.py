"""The web benchmark mounts its bare view in a urlconf of its own (bench/urls.py, selected by bench/settings.py): the
product's URLs never contain it, the benchmark's contain every product URL besides it, and the benchmark's settings
are the product's but for the urlconf. The log-off phase skips access entries in bench/ (bench/access_log.py), the
product writing them as usual."""

import pytest
from django.test import override_settings
from django.urls import NoReverseMatch, reverse

import bench.settings
import config.settings
from audit import chain
from audit.models import AuditLogEntry
from bench import access_log
from bench.views import BARE_BODY
from common.roles import RESIDENT_CLERK, assign_role


@pytest.mark.django_db
def test_the_product_urls_do_not_contain_the_bare_view(client, clerk):
    client.force_login(clerk)
    assert client.get("/bench/bare/").status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("bench_bare")


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="bench.urls")
def test_the_bench_urls_add_the_bare_view_to_the_product_urls(client, clerk):
    assert reverse("bench_bare") == "/bench/bare/"
    response = client.get("/bench/bare/")
    assert response.status_code == 200
    assert response.content == BARE_BODY
    assert reverse("login") == "/login/"
    assert "ログイン" in client.get("/login/").content.decode()
    client.force_login(clerk)
    missing = client.get("/residents/no-such-page/")
    assert missing.status_code == 404
    assert "<h1>見つかりません</h1>" in missing.content.decode()  # the product's page (handler404)


def test_the_bench_settings_are_the_product_settings_but_for_the_urlconf():
    names = {name for name in dir(config.settings) if name.isupper() and not name.startswith("_")}
    assert names <= set(dir(bench.settings))
    differing = {name for name in names if getattr(bench.settings, name) != getattr(config.settings, name)}
    assert differing == {"ROOT_URLCONF"}
    assert bench.settings.ROOT_URLCONF == "bench.urls"


def test_the_log_off_wrapper_skips_only_access_entries():
    assert access_log.ACCESS == AuditLogEntry.Category.ACCESS
    written = []
    append = access_log.without_access_entries(lambda **fields: written.append(fields) or "entry")
    assert append(category=AuditLogEntry.Category.ACCESS, action="search") is None
    assert append(category=AuditLogEntry.Category.ACCOUNT, action="login") == "entry"
    assert [fields["category"] for fields in written] == [AuditLogEntry.Category.ACCOUNT]


@pytest.mark.django_db
def test_a_gated_page_writes_its_access_entry_unless_the_bench_skips_it(client, clerk, monkeypatch):
    assign_role(clerk, RESIDENT_CLERK)
    client.force_login(clerk)
    url = reverse("registry:search")
    access = AuditLogEntry.objects.filter(category=AuditLogEntry.Category.ACCESS)
    assert client.get(url, {"kana": "ヤマダ"}).status_code == 200
    assert access.count() == 1
    monkeypatch.setattr(chain, "append", access_log.without_access_entries(chain.append))
    assert client.get(url, {"kana": "ヤマダ"}).status_code == 200
    assert access.count() == 1
