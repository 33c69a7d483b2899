"""The periodic analysis of the access log: per user, for a period, night/holiday access, denied attempts, failed
logins and 大量閲覧 (more persons named on pages within one hour than a threshold). Prints a table; exit 0."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit import selectors
from common.context import audit_context
from common.wareki import WarekiError, parse_date

HEADERS = ("職員ID", "夜間・休日", "拒否", "ログイン失敗", "閲覧人数", "1時間の最大", "大量閲覧")


def _date(text: str) -> dt.date:
    try:
        return parse_date(text)
    except WarekiError as exc:
        raise CommandError(str(exc)) from None


def _width(text: str) -> int:
    """Display width: full-width characters take two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


class Command(BaseCommand):
    help = "アクセスログを分析し、職員ごとの夜間・休日アクセス、拒否、ログイン失敗、大量閲覧を表にする"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="date_from", help="期間の初日（和暦可。既定は昨日）")
        parser.add_argument("--to", dest="date_to", help="期間の末日（この日を含む。既定は --from と同じ日）")
        parser.add_argument(
            "--threshold",
            type=int,
            default=selectors.MASS_VIEW_THRESHOLD,
            help=f"1時間にこの人数を超えて表示したら大量閲覧（既定 {selectors.MASS_VIEW_THRESHOLD}）",
        )
        parser.add_argument("--all", action="store_true", help="該当のない職員も表示する")

    def handle(self, *args, date_from=None, date_to=None, threshold: int, all: bool, **options) -> None:  # noqa: A002
        first = _date(date_from) if date_from else timezone.localdate() - dt.timedelta(days=1)
        last = _date(date_to) if date_to else first
        if last < first:
            raise CommandError("--to は --from 以降の日にしてください。")
        if threshold < 1:
            raise CommandError("--threshold は 1 以上にしてください。")
        start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
        end = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min))
        with audit_context(None, "command:report_access_anomalies"):
            report = selectors.anomaly_report(start, end, threshold=threshold)
        rows = report if all else list(selectors.iter_flagged(report))
        self.stdout.write(f"期間 {first.isoformat()} 〜 {last.isoformat()}（大量閲覧のしきい値 {threshold} 人/時）")
        table = [
            (
                r.username,
                str(r.off_hours),
                str(r.denied),
                str(r.login_failed),
                str(r.person_views),
                str(r.peak_per_hour),
                str(r.mass_view_episodes),
            )
            for r in rows
        ]
        widths = [max([_width(h), *(_width(row[i]) for row in table)]) for i, h in enumerate(HEADERS)]
        self.stdout.write("  ".join(_pad(h, widths[i]) for i, h in enumerate(HEADERS)))
        self.stdout.write("  ".join("-" * w for w in widths))
        for row in table:
            self.stdout.write("  ".join(_pad(v, widths[i], right=i > 0) for i, v in enumerate(row)))
        flagged = sum(1 for r in report if r.flagged)
        self.stdout.write(f"職員 {len(report)} 人のうち {flagged} 人に該当あり")
