"""管理簿 pages: the list with its filters (period, kind, handler), one entry, and the print view (its own A4
stylesheet, no navigation, no inline styles); gated like every page, refusals logged."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from audit.models import HandoverRecord

from .screens import entries_after, last_id, user_with

pytestmark = pytest.mark.django_db
LEDGER = "audit.view_handoverrecord"


def _record(kind="audit_log_csv", handler_name="kantoku", when=None, **extra) -> HandoverRecord:
    values = {
        "kind": kind,
        "handler_name": handler_name,
        "purpose": f"目的 {handler_name} {kind}",
        "content": "アクセスログ（条件なし）",
        "row_count": 10,
        "file_name": f"{kind.replace('_', '-')}-20261125-120000-{last_id():08x}.zip",
        "file_digest": "a" * 64,
    }
    values.update(extra)
    with time_machine.travel(when or timezone.now(), tick=False):  # created_at: auto_now_add
        return HandoverRecord.objects.create(**values)


@pytest.fixture
def reader(client):
    client.force_login(user_with("ledger-reader", LEDGER))
    return client


def _numbers(response) -> list[int]:
    return [int(n) for n in re.findall(r'href="/audit/ledger/(\d+)/"', response.content.decode())]


def test_list_filters_by_period_kind_and_handler(reader):
    day = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # 10:00 in the ward
    early = _record(when=day - dt.timedelta(days=10))
    mine = _record(handler_name="kantoku", kind="records_csv", when=day)
    other = _record(handler_name="batch:backup", kind="backup", when=day + dt.timedelta(days=1))
    url = reverse("audit:ledger")
    assert _numbers(reader.get(url)) == [other.pk, mine.pk, early.pk]  # newest first
    assert _numbers(reader.get(url, {"kind": "records_csv"})) == [mine.pk]
    assert _numbers(reader.get(url, {"handler": "batch:backup"})) == [other.pk]
    assert _numbers(reader.get(url, {"date_from": "R8.11.15", "date_to": "2026-11-20"})) == [mine.pk]
    bad = reader.get(url, {"date_from": "2026-11-21", "date_to": "2026-11-20"}).content.decode()
    assert "期間の終わりは始まりより後の日にしてください。" in bad


def test_list_is_logged_with_its_conditions(reader):
    mark = last_id()
    reader.get(reverse("audit:ledger"), {"kind": "backup"})
    [entry] = entries_after(mark)
    assert (entry.action, entry.outcome, entry.conditions) == ("ledger.ledger_list", "shown", {"kind": "backup"})


def test_detail_shows_every_item_of_the_entry(reader):
    record = _record(recipient="監査委員事務局", file_size=1234, row_count=42)
    page = reader.get(reverse("audit:ledger_entry", args=[record.pk])).content.decode()
    for text in (
        record.purpose,
        "監査委員事務局",
        record.content,
        "42件",
        record.file_name,
        "1234",
        record.file_digest,
    ):
        assert text in page
    assert "ダウンロード" not in page  # the reader may not export


def test_print_view_is_a4_without_navigation(reader):
    first = _record(row_count=3)
    second = _record(kind="records_csv", row_count=4, recipient="渋谷区")
    response = reader.get(reverse("audit:ledger_print"), {"kind": ""})
    page = response.content.decode()
    assert response.status_code == 200
    assert "/static/css/print.css" in page
    assert "main-menu" not in page
    assert "<nav" not in page
    assert "style=" not in page
    assert "<style" not in page
    assert page.index(first.purpose) < page.index(second.purpose)  # oldest first, as a ledger is kept
    assert "計 2件" in page
    assert ">7<" in page  # total rows


def test_print_stylesheet_sets_a4_and_hides_the_screen_help():
    from django.contrib.staticfiles import finders

    css = open(finders.find("css/print.css"), encoding="utf-8").read()
    assert "size: A4" in css
    assert ".screen-only { display: none; }" in css[css.index("@media print") :]


@pytest.mark.parametrize("name", ["audit:ledger", "audit:ledger_print"])
def test_refused_without_the_permission_and_logged(client, name):
    client.force_login(user_with("clerk-y", "registry.view_resident"))
    mark = last_id()
    assert client.get(reverse(name)).status_code == 403
    assert [(e.outcome, e.username) for e in entries_after(mark)] == [("denied", "clerk-y")]


def test_menu_entry_for_those_who_may_read_the_ledger(client, reader):
    assert "管理簿" in reader.get(reverse("home")).content.decode()
    client.force_login(user_with("clerk-z", "registry.view_resident"))
    assert ">管理簿<" not in client.get(reverse("home")).content.decode()
