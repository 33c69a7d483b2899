"""`{{ date|wareki }}` → 令和6年5月27日（2024-05-27）."""

import datetime as dt

from django import template

from common.wareki import to_wareki_with_seireki

register = template.Library()


@register.filter(name="wareki", expects_localtime=True)
def wareki_filter(value: dt.date | dt.datetime | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    return to_wareki_with_seireki(value)
