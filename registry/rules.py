"""Rules about dates and households that involve several fields; each raises or collects Japanese messages."""

import datetime as dt

from django.utils import timezone

from common.errors import ServiceError

from .relationships import HEAD

# 住基法24条: a 転出届 may be filed before the move; we accept a planned date up to this many days after filing.
MOVE_OUT_NOTICE_AHEAD_DAYS = 14


class Problems:
    """Collects clerk-facing messages by field; `raise_if_any()` raises one ServiceError with all of them."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, [])
        if message not in self.by_field[field]:
            self.by_field[field].append(message)

    def extend(self, field: str, messages: list[str]) -> None:
        for message in messages:
            self.add(field, message)

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ServiceError(self.by_field)


def today() -> dt.date:
    return timezone.localdate()


def check_change_dates(
    problems: Problems,
    change_date: dt.date,
    notified_on: dt.date | None,
    *,
    birth_dates: list[dt.date] = (),
    birth_fields: list[str] = (),
    change_date_may_follow_notification_by: int = 0,
) -> None:
    """No future 異動年月日, 異動年月日 not after 届出年月日, no 届出 in the future, birth not after the 異動.
    `birth_fields` names the field of each birth date (`persons[1].birth_date`), so that the screen shows the
    message at that person's 生年月日; without it, every message goes to `birth_date`."""
    now = today()
    if notified_on is not None and notified_on > now:
        problems.add("notified_on", "届出年月日が未来の日付です。")
    if change_date_may_follow_notification_by and notified_on is not None:
        latest = notified_on + dt.timedelta(days=change_date_may_follow_notification_by)
        if change_date > latest:
            problems.add(
                "change_date",
                f"異動（予定）年月日は届出年月日から{change_date_may_follow_notification_by}日以内にしてください。",
            )
    else:
        if change_date > now:
            problems.add("change_date", "異動年月日が未来の日付です。")
        if notified_on is not None and change_date > notified_on:
            problems.add("change_date", "異動年月日が届出年月日より後になっています。")
    for index, birth in enumerate(birth_dates):
        field = birth_fields[index] if index < len(birth_fields) else "birth_date"
        if birth > change_date:
            problems.add(field, "生年月日が異動年月日より後になっています。")
        if birth > now:
            problems.add(field, "生年月日が未来の日付です。")


def check_one_head(problems: Problems, relationships: list[str], field: str = "relationship") -> None:
    heads = sum(1 for r in relationships if r == HEAD)
    if heads > 1:
        problems.add(field, "一つの世帯に世帯主は一人です。")
