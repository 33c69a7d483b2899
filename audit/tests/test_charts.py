"""audit.charts (pure: numbers → SVG) and the chart page: titles and descriptions, one shape per number with its
number, escaping, no inline style anywhere, and the same numbers in tables; the page is gated and logged."""

import datetime as dt
import re
from xml.etree import ElementTree

import pytest
from django.urls import reverse
from django.utils import timezone

from audit import charts
from common.testing.clock import JST

from .screens import append, at, entries_after, last_id, user_with

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 - our own output


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (10, 10), (11, 20), (180, 200), (201, 500)]
)
def test_nice_max(value, top):
    assert charts.nice_max(value) == top


def test_heat_steps():
    assert [charts.heat_step(v, 10) for v in (0, 1, 2, 5, 9, 10)] == [0, 1, 1, 3, 5, 5]
    assert charts.heat_step(3, 0) == 0


def test_bar_chart_is_labelled_and_has_a_bar_per_number():
    svg = charts.bar_chart(
        "c1",
        "時間外 <アクセス>",
        "日ごとの件数",
        ["11/24", "11/25"],
        [charts.Series("時間外", [3, 0], "s1"), charts.Series("閉庁日", [1, 4], "s2")],
    )
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "時間外 <アクセス>"  # escaped in the markup, intact when read
    bars = [r for r in root.iter(f"{SVG}rect") if "bar" in r.get("class", "") and r.find(f"{SVG}title") is not None]
    assert [b.find(f"{SVG}title").text for b in bars] == [
        "11/24 時間外: 3",
        "11/24 閉庁日: 1",
        "11/25 時間外: 0",
        "11/25 閉庁日: 4",
    ]
    heights = [float(b.get("height")) for b in bars]
    assert heights[3] > heights[0] > heights[1] > heights[2] == 0  # 4 > 3 > 1 > 0 on one scale
    assert "style" not in svg


def test_stacked_bars_sit_on_each_other():
    svg = charts.bar_chart("c2", "t", "d", ["a"], [charts.Series("x", [2]), charts.Series("y", [2])])
    first, second = [r for r in _parse(svg).iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert float(second.get("y")) + float(second.get("height")) == pytest.approx(float(first.get("y")))


def test_mismatched_series_are_refused():
    with pytest.raises(ValueError, match="values"):
        charts.bar_chart("c3", "t", "d", ["a", "b"], [charts.Series("x", [1])])
    with pytest.raises(ValueError, match="values"):
        charts.heatmap("c4", "t", "d", ["clerk"], ["a", "b"], [[1]])


def test_heatmap_cells_are_shaded_by_count():
    svg = charts.heatmap("h1", "職員×日", "説明", ["clerk", "<b>"], ["11/24", "11/25"], [[0, 10], [5, 1]])
    cells = list(_parse(svg).iter(f"{SVG}rect"))
    assert [(c.get("class"), c.find(f"{SVG}title").text) for c in cells] == [
        ("cell q0", "clerk 11/24: 0"),
        ("cell q5", "clerk 11/25: 10"),
        ("cell q3", "<b> 11/24: 5"),
        ("cell q1", "<b> 11/25: 1"),
    ]
    assert "<b>" not in svg
    assert "style" not in svg


@pytest.mark.django_db
@pytest.mark.calendar
@pytest.mark.parametrize(
    ("now", "after_hours", "closed_day"),
    [
        (dt.datetime(2026, 11, 25, 22, tzinfo=JST), 1, 0),  # a Wednesday: the evening access is after hours
        (dt.datetime(2026, 12, 6, 22, tzinfo=JST), 0, 3),  # a Sunday: every access counts as 閉庁日
        (dt.datetime(2026, 11, 23, 22, tzinfo=JST), 0, 3),  # 勤労感謝の日
    ],
)
def test_the_chart_page_shows_charts_and_tables_and_is_logged(client, time_machine, now, after_hours, closed_day):
    time_machine.move_to(now)
    today = timezone.localdate()
    noon = timezone.make_aware(dt.datetime.combine(today, dt.time(12)))
    evening = timezone.make_aware(dt.datetime.combine(today, dt.time(21)))
    with at(noon):
        append(username="clerk-a", subject_ids=[1])
        append(username="clerk-a", outcome="denied")
    with at(evening):
        append(username="clerk-b", subject_ids=[2])
    client.force_login(user_with("kantoku", "audit.view_auditlogentry"))
    mark = last_id()
    response = client.get(reverse("audit:charts"), {"days": "30"})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<svg") == 5
    assert not re.search(r"\sstyle=", body)
    (entry,) = entries_after(mark)
    assert (entry.action, entry.outcome, entry.conditions) == ("charts.chart_page", "shown", {"days": 30})
    table = dict(response.context["clerk_table"])
    assert table["clerk-a"][-1] == 2
    assert table["clerk-b"][-1] == 1
    last = response.context["table_days"][-1]
    assert last["denied"] == 1
    assert (last["after"], last["holiday"]) == (after_hours, closed_day)
