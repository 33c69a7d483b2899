"""和暦 (Japanese era) dates: shown with 西暦 beside them, and parsed from what clerks type.

Eras by their first day in the Gregorian calendar. 明治 is counted from 1873-01-01, when Japan adopted the
Gregorian calendar; earlier dates are shown in 西暦 only.
"""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    start: dt.date


ERAS: tuple[Era, ...] = (
    Era("令和", "R", dt.date(2019, 5, 1)),
    Era("平成", "H", dt.date(1989, 1, 8)),
    Era("昭和", "S", dt.date(1926, 12, 25)),
    Era("大正", "T", dt.date(1912, 7, 30)),
    Era("明治", "M", dt.date(1873, 1, 1)),
)
_BY_KEY = {e.name: e for e in ERAS} | {e.letter: e for e in ERAS} | {e.name[0]: e for e in ERAS}
_MEIJI_YEAR_ONE = 1868


def era_of(date: dt.date) -> Era | None:
    for era in ERAS:
        if date >= era.start:
            return era
    return None


def _era_year(era: Era, date: dt.date) -> int:
    first_year = _MEIJI_YEAR_ONE if era.letter == "M" else era.start.year
    return date.year - first_year + 1


def to_wareki(date: dt.date) -> str:
    """`2024-05-27` → `令和6年5月27日`; the first year of an era is 元年."""
    era = era_of(date)
    if era is None:
        return f"{date.year}年{date.month}月{date.day}日"
    year = _era_year(era, date)
    year_text = "元" if year == 1 else str(year)
    return f"{era.name}{year_text}年{date.month}月{date.day}日"


def to_wareki_with_seireki(date: dt.date | None) -> str:
    """`令和6年5月27日（2024-05-27）` — what every screen shows."""
    if date is None:
        return ""
    return f"{to_wareki(date)}（{date.isoformat()}）"


_WAREKI_RE = re.compile(
    r"^(?P<era>令和|平成|昭和|大正|明治|[RHSTMrhstm令平昭大明])\s*(?P<y>\d{1,4}|元)\s*[年./\-]\s*(?P<m>\d{1,2})\s*"
    r"[月./\-]\s*(?P<d>\d{1,2})\s*日?$"
)
_SEIREKI_RE = re.compile(r"^(?P<y>\d{4})\s*[年./\-]\s*(?P<m>\d{1,2})\s*[月./\-]\s*(?P<d>\d{1,2})\s*日?$")
_COMPACT_RE = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")


class WarekiError(ValueError):
    """A date a clerk typed that is not a real date; the message is in Japanese."""


def parse_date(text: str) -> dt.date:
    """Parse `R6.5.27`, `令和6年5月27日`, `H1.1.8`, `2024-05-27`, `2024/5/27`, `20240527` (full-width digits too)."""
    value = unicodedata.normalize("NFKC", text).strip()
    if m := _WAREKI_RE.match(value):
        era = _BY_KEY[m["era"].upper() if m["era"].isascii() else m["era"]]
        year_in_era = 1 if m["y"] == "元" else int(m["y"])
        if year_in_era < 1:
            raise WarekiError(f"「{text}」の年が正しくありません。")
        first_year = _MEIJI_YEAR_ONE if era.letter == "M" else era.start.year
        date = _make(first_year + year_in_era - 1, int(m["m"]), int(m["d"]), text)
        if era_of(date) != era:
            raise WarekiError(f"「{text}」は{era.name}の期間にない日付です。")
        return date
    if m := (_SEIREKI_RE.match(value) or _COMPACT_RE.match(value)):
        return _make(int(m["y"]), int(m["m"]), int(m["d"]), text)
    raise WarekiError(f"「{text}」を日付として読めません。例：令和6年5月27日、R6.5.27、2024-05-27")


def _make(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise WarekiError(f"「{text}」は存在しない日付です。") from None
