"""グラフ: what supervisors would rather look at than read — accesses per clerk per day, accesses after hours and
on closed days, denied accesses, and the notices' backlog and failures — as server-rendered SVG, each with its numbers
in a table. Days before today never change (the audit chain is append-only), so their counts are cached."""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from .. import charts, selectors
from ..gate import personal_data_view
from ..office_hours import closed_reason

PERIODS = (14, 30)
MAX_CLERKS = 20  # rows of the heat map; the busiest clerks of the period
PAST_CACHE_SECONDS = 6 * 3600
STATE_LABELS = {"pending": "送信待ち", "sending": "送信中", "sent": "応答待ち", "failed": "送信失敗"}


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _past_and_today(name: str, first: dt.date, today: dt.date, compute: Callable[[dt.date, dt.date], Any]):
    """compute(first, yesterday) from the cache (those days are final) and compute(today, today) fresh."""
    yesterday = today - dt.timedelta(days=1)
    past = cache.get_or_set(
        f"audit-charts:{name}:{first}:{yesterday}", lambda: compute(first, yesterday), PAST_CACHE_SECONDS
    )
    return past, compute(today, today)


def _merge_daily(past: dict, now: dict) -> dict:
    if isinstance(next(iter(past.values()), None), dict) or isinstance(next(iter(now.values()), None), dict):
        return {key: {**past.get(key, {}), **now.get(key, {})} for key in past.keys() | now.keys()}
    return {**past, **now}


def _label(day: dt.date) -> str:
    return f"{day.month}/{day.day}"


@personal_data_view(
    "audit.view_auditlogentry", subject_kind="audit_log", action="charts.chart_page", label="監査のグラフ"
)
def chart_page(request: HttpRequest, access) -> HttpResponse:
    period = int(request.GET["days"]) if request.GET.get("days", "").isdigit() else PERIODS[0]
    period = period if period in PERIODS else PERIODS[0]
    access.conditions = {"days": period}
    today = timezone.localdate()
    first = today - dt.timedelta(days=period - 1)
    days = _days(first, today)
    labels = [_label(d) for d in days]

    by_clerk = _merge_daily(*_past_and_today("clerks", first, today, selectors.accesses_by_clerk_and_day))
    totals: dict[str, int] = {}
    for (user, _day), n in by_clerk.items():
        totals[user] = totals.get(user, 0) + n
    clerks = sorted(totals, key=lambda u: (-totals[u], u))[:MAX_CLERKS]
    clerk_rows = [[by_clerk.get((user, d), 0) for d in days] for user in clerks]

    pattern = _merge_daily(*_past_and_today("pattern", first, today, selectors.access_pattern_by_day))
    problems = _merge_daily(*_past_and_today("transmission", first, today, selectors.transmission_problems_by_day))
    backlog_daily = selectors.notice_backlog_by_day(first, today)
    backlog_now = selectors.notice_backlog()

    def series(name: str, data: dict, css: str) -> charts.Series:
        return charts.Series(name, [data.get(d, 0) for d in days], css)

    after = series("時間外", pattern["after_hours"], "s1")
    holiday = series("閉庁日", pattern["holiday"], "s2")
    denied = series("拒否", pattern["denied"], "s3")
    failed = series("送信失敗", problems["failed"], "s3")
    retried = series("再試行", problems["retried"], "s4")
    waiting = series("未受領（日末）", backlog_daily, "s1")
    span = f"{first:%Y-%m-%d}〜{today:%Y-%m-%d}"
    svg = {
        "clerks": charts.heatmap(
            "chart-clerks",
            f"職員ごと・日ごとのアクセス件数（{span}、上位{len(clerks)}人）",
            "行が職員、列が日。色が濃いほど件数が多い。数は下の表にある。",
            clerks,
            labels,
            clerk_rows,
        )
        if clerks
        else "",
        "off_hours": charts.bar_chart(
            "chart-off-hours",
            f"時間外・閉庁日のアクセス（{span}）",
            "日ごとの棒。時間外は平日の執務時間外、閉庁日は土日・祝日・年末年始のアクセス件数。",
            labels,
            [after, holiday],
        ),
        "denied": charts.bar_chart(
            "chart-denied", f"拒否されたアクセス（{span}）", "日ごとの拒否の件数。", labels, [denied]
        ),
        "backlog_now": charts.bar_chart(
            "chart-backlog-now",
            "いま受領確認のない通知（状態別）",
            "送信待ち・送信中・応答待ち・送信失敗の件数。",
            [STATE_LABELS[s] for s in backlog_now],
            [charts.Series("件数", list(backlog_now.values()), "s1")],
            width=480,
        ),
        "notices": charts.bar_chart(
            "chart-notices",
            f"通知の未受領と失敗（{span}）",
            "日ごとに、その日の終わりに受領確認のなかった通知、送信失敗、再試行になった送信の件数。",
            labels,
            [waiting, failed, retried],
            stacked=False,
        ),
    }
    table_days = [
        {
            "day": d,
            "closed": closed_reason(d),
            "after": after.values[i],
            "holiday": holiday.values[i],
            "denied": denied.values[i],
            "waiting": waiting.values[i],
            "failed": failed.values[i],
            "retried": retried.values[i],
        }
        for i, d in enumerate(days)
    ]
    return render(
        request,
        "audit/charts.html",
        {
            "svg": {k: mark_safe(v) for k, v in svg.items()},  # noqa: S308 - built by audit.charts, every text escaped
            "period": period,
            "periods": PERIODS,
            "labels": labels,
            "clerk_table": list(zip(clerks, clerk_rows, strict=True)),
            "table_days": table_days,
            "backlog_now": [(STATE_LABELS[s], n) for s, n in backlog_now.items()],
        },
    )
