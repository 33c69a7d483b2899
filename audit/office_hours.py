"""The ward office's calendar: when it is open, when it is closed, and why.

Open on working days between the office hours of `settings.AUDIT_OFFICE_HOURS` (default 8:30–17:15, ward time).
Closed days (行政機関の休日): Saturdays, Sundays, national holidays (祝日・振替休日・国民の休日, from `jpholiday`)
and the year-end closure 12/29–1/3. The one definition of office hours: the periodic analysis (after_hours / holiday
flags), the charts and the access-log screen (its badges and its 時間外・閉庁日 filter) all use it.
"""

from __future__ import annotations

import datetime as dt
import functools

import jpholiday
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

YEAR_END_CLOSED = ((12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3))
WEEKDAY_NAMES = "月火水木金土日"


@functools.cache
def _parse_hours(text: str) -> tuple[dt.time, dt.time]:
    try:
        start_text, end_text = (part.strip() for part in text.split("-", 1))
        start, end = dt.time.fromisoformat(start_text), dt.time.fromisoformat(end_text)
    except ValueError:
        raise ImproperlyConfigured(f"AUDIT_OFFICE_HOURS は 08:30-17:15 の形で指定してください（{text!r}）") from None
    if not start < end:
        raise ImproperlyConfigured(f"AUDIT_OFFICE_HOURS の終わりは始まりより後にしてください（{text!r}）")
    return start, end


def office_hours() -> tuple[dt.time, dt.time]:
    """(opening, closing) on a working day."""
    return _parse_hours(settings.AUDIT_OFFICE_HOURS)


@functools.lru_cache(maxsize=4096)
def closed_reason(day: dt.date) -> str:
    """Why the office is closed on `day` (「土曜日」「勤労感謝の日」「年末年始」), or "" on a working day."""
    holiday = jpholiday.is_holiday_name(day)
    if holiday:
        return holiday
    if (day.month, day.day) in YEAR_END_CLOSED:
        return "年末年始"
    if day.isoweekday() >= 6:
        return f"{WEEKDAY_NAMES[day.weekday()]}曜日"
    return ""


def is_closed_day(day: dt.date) -> bool:
    return bool(closed_reason(day))


def outside_office_clock(local_time: dt.time) -> bool:
    """The clock alone: before opening or from closing on (whatever the day)."""
    start, end = office_hours()
    return not (start <= local_time < end)


def is_after_hours(moment: dt.datetime) -> bool:
    """Outside office hours on a working day (closed days are `is_closed_day`, not this)."""
    local = timezone.localtime(moment)
    return not is_closed_day(local.date()) and outside_office_clock(local.time())


def closed_weekdays(first: dt.date, last: dt.date) -> list[dt.date]:
    """The days from Monday to Friday in [first, last] on which the office is closed (national holidays and the
    year-end closure); with Saturdays and Sundays, every closed day."""
    days = {day for day, _ in jpholiday.between(first, last)}
    for year in range(first.year, last.year + 1):
        days.update(day for day in (dt.date(year, m, d) for m, d in YEAR_END_CLOSED) if first <= day <= last)
    return sorted(day for day in days if day.isoweekday() < 6)


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[day 0:00, next day 0:00) in the ward's time."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
