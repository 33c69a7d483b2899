"""Server-rendered SVG charts for the supervisors' pages: pure functions from numbers to an SVG string.

No JavaScript and no inline styles (the CSP allows neither): geometry goes into presentation attributes, colours into
classes that static/css/charts.css defines (`s1`…`s4` for series, `q0`…`q5` for heat-map steps). Every chart is an
`<svg role="img">` labelled by its own `<title>` and `<desc>`; each bar or cell carries a `<title>` with its number
(a tooltip, and read by screen readers), and the page shows the same numbers in a table beside the chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

SERIES_CLASSES = ("s1", "s2", "s3", "s4")
HEAT_STEPS = 5  # q1..q5; q0 is zero


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]
    css_class: str = ""


def nice_max(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^k (k ≥ 0) that is ≥ value, and at least 1: a round top for the y axis."""
    if value <= 1:
        return 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * exponent >= value:
            return step * exponent
    return 10 * exponent  # pragma: no cover - the loop always returns


def heat_step(value: int, top: int) -> int:
    """0 for nothing, else 1..HEAT_STEPS in proportion to the largest value."""
    if value <= 0 or top <= 0:
        return 0
    return max(1, min(HEAT_STEPS, math.ceil(HEAT_STEPS * value / top)))


def _a(value: float) -> str:
    """A number for an attribute: integers without a decimal point, else one decimal."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _open(chart_id: str, title: str, desc: str, width: int, height: int, css: str) -> list[str]:
    cid = escape(chart_id, quote=True)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css}" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet" role="img" aria-labelledby="{cid}-title {cid}-desc" id="{cid}">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
    ]


def _label_every(count: int, room: float, per_label: float = 44.0) -> int:
    """Show every n-th x label so that labels do not overlap."""
    return max(1, math.ceil(count * per_label / room)) if count else 1


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool = True,
    width: int = 720,
    height: int = 260,
) -> str:
    """Bars per label, one colour per series, stacked (or side by side), a y axis with round ticks, a legend."""
    left, right, top, bottom = 48, 12, 12, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(labels)
    for s in series:
        if len(s.values) != n:
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {n} labels")
    if stacked:
        peak = max((sum(s.values[i] for s in series) for i in range(n)), default=0)
    else:
        peak = max((v for s in series for v in s.values), default=0)
    ymax = nice_max(peak)
    out = _open(chart_id, title, desc, width, height, "bar-chart")
    out.append('<g class="axis">')
    for k in range(5):
        value = ymax * k / 4
        y = top + plot_h - plot_h * k / 4
        out.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{_a(y)}" y2="{_a(y)}"/>')
        tick = _a(value) if value == int(value) else f"{value:.1f}"
        out.append(f'<text class="tick" x="{left - 6}" y="{_a(y + 4)}" text-anchor="end">{tick}</text>')
    out.append("</g>")
    slot = plot_w / n if n else plot_w
    bar_w = slot * 0.7 if stacked else slot * 0.8 / max(1, len(series))
    every = _label_every(n, plot_w)
    out.append('<g class="bars">')
    for i, label in enumerate(labels):
        x0 = left + slot * i + (slot * 0.15 if stacked else slot * 0.1)
        base = 0
        for j, s in enumerate(series):
            value = s.values[i]
            css = s.css_class or SERIES_CLASSES[j % len(SERIES_CLASSES)]
            h = plot_h * value / ymax
            if stacked:
                x, y = x0, top + plot_h - plot_h * base / ymax - h
                base += value
            else:
                x, y = x0 + bar_w * j, top + plot_h - h
            out.append(
                f'<rect class="bar {css}" x="{_a(x)}" y="{_a(y)}" width="{_a(bar_w)}" height="{_a(h)}">'
                f"<title>{escape(label)} {escape(s.name)}: {value}</title></rect>"
            )
        if i % every == 0:
            cx = left + slot * i + slot / 2
            out.append(
                f'<text class="label" x="{_a(cx)}" y="{top + plot_h + 16}" text-anchor="middle">{escape(label)}</text>'
            )
    out.append("</g>")
    out.append(f'<line class="baseline" x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    out.extend(_legend(series, left, height - 14))
    out.append("</svg>")
    return "\n".join(out)


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    out = ['<g class="legend">']
    for j, s in enumerate(series):
        css = s.css_class or SERIES_CLASSES[j % len(SERIES_CLASSES)]
        out.append(f'<rect class="bar {css}" x="{_a(x)}" y="{_a(y - 10)}" width="12" height="12"/>')
        out.append(f'<text class="legend-label" x="{_a(x + 16)}" y="{_a(y)}">{escape(s.name)}</text>')
        x += 28 + 14 * len(s.name)
    out.append("</g>")
    return out


def heatmap(
    chart_id: str,
    title: str,
    desc: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[int]],
    *,
    width: int = 720,
    cell_h: int = 20,
) -> str:
    """A grid: one row per clerk, one column per day, each cell shaded by its count (q0…q5)."""
    if len(values) != len(rows) or any(len(r) != len(columns) for r in values):
        raise ValueError("values must have one row per row label and one value per column")
    left, top, right = 120, 28, 8
    plot_w = width - left - right
    cell_w = plot_w / len(columns) if columns else plot_w
    height = top + cell_h * len(rows) + 8
    peak = max((v for r in values for v in r), default=0)
    out = _open(chart_id, title, desc, width, height, "heatmap")
    every = _label_every(len(columns), plot_w)
    out.append('<g class="columns">')
    for j, column in enumerate(columns):
        if j % every == 0:
            cx = left + cell_w * j + cell_w / 2
            out.append(f'<text class="label" x="{_a(cx)}" y="{top - 8}" text-anchor="middle">{escape(column)}</text>')
    out.append("</g>")
    out.append('<g class="cells">')
    for i, row in enumerate(rows):
        y = top + cell_h * i
        out.append(
            f'<text class="row-label" x="{left - 6}" y="{_a(y + cell_h * 0.7)}" text-anchor="end">{escape(row)}</text>'
        )
        for j, column in enumerate(columns):
            value = values[i][j]
            out.append(
                f'<rect class="cell q{heat_step(value, peak)}" x="{_a(left + cell_w * j)}" y="{_a(y)}" '
                f'width="{_a(cell_w - 1)}" height="{cell_h - 1}">'
                f"<title>{escape(row)} {escape(column)}: {value}</title></rect>"
            )
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)
