"""`{{ moment|local_day|wareki }}`: the ward's calendar day of an aware datetime (the `wareki` filter takes the
date part as it comes, which for a time stored in UTC is the previous day before 9:00 in Tokyo)."""

import datetime as dt

from django import template
from django.utils import timezone

register = template.Library()


@register.filter(name="local_day")
def local_day(value: dt.datetime | dt.date | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value
