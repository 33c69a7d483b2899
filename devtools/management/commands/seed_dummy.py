"""`manage.py seed_dummy --residents N [--seed S] [--batch-size B] [--no-progress] [--append] [--as-of YYYY-MM-DD]
[--cross-ward CODE [--cross-ward-count K] [--cross-ward-seed T]]`

Fills an empty database with a fake ward: N current residents in their 世帯, with 異動 history, 除票, 戸籍 and 附票.
A thin wrapper over devtools.dummy.seed_ward, which explains what is generated and why it bypasses the services.
`--cross-ward CODE` (alone or after the residents) adds this ward's side of K persons shared with the instance of
municipality CODE (devtools.dummy.cross_ward): the other instance, run with this ward's code, writes the other side.
"""

import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from common.context import audit_context
from devtools.dummy import DEFAULT_BATCH_SIZE, SeedRefused, seed_ward
from devtools.dummy.cross_ward import write_cross_ward


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "ダミーの住民・世帯・戸籍・附票を生成して投入します（実在の人物のデータは含みません）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--residents", type=_positive, help="生成する現存の住民の数（--cross-ward だけなら省略可）")
        parser.add_argument("--seed", type=int, default=0, help="乱数の種。同じ種と基準日からは同じデータができる")
        parser.add_argument(
            "--batch-size",
            type=_positive,
            default=DEFAULT_BATCH_SIZE,
            help=f"1回のトランザクションで書く住民の数（既定 {DEFAULT_BATCH_SIZE}）",
        )
        parser.add_argument("--no-progress", action="store_true", help="進捗表示をしない")
        parser.add_argument("--append", action="store_true", help="住民票がすでにあっても追加する")
        parser.add_argument(
            "--as-of",
            type=date.fromisoformat,
            default=None,
            help="基準日（YYYY-MM-DD、既定は今日）。これより後の日付は作らない",
        )
        parser.add_argument(
            "--no-copy", action="store_true", help="PostgreSQL でも COPY を使わず bulk_create で書く（比較用）"
        )
        parser.add_argument(
            "--cross-ward",
            metavar="CODE",
            help="相手の団体（地方公共団体コード）と共通のダミー住民を加える（相手のインスタンスではこの区のコードで実行）",
        )
        parser.add_argument("--cross-ward-count", type=_positive, default=20, help="共通のダミー住民の数（既定 20）")
        parser.add_argument("--cross-ward-seed", type=int, default=0, help="共通のダミー住民の乱数の種（両方で同じ値）")

    def handle(self, *args, **options) -> None:
        if options["residents"] is None and not options["cross_ward"]:
            raise CommandError("--residents（または --cross-ward）を指定してください。")
        if options["residents"] is not None:
            self._seed(options)
        if options["cross_ward"]:
            with audit_context(None, "command:seed_dummy"):
                try:
                    residents, fuhyo = write_cross_ward(
                        options["cross_ward"], options["cross_ward_count"], options["cross_ward_seed"]
                    )
                except ValueError as exc:
                    raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"{options['cross_ward']} と共通のダミー住民: 住民票 {residents} 人、附票 {fuhyo} 人を投入しました"
                "（すでにある人は省略）。"
            )

    def _seed(self, options) -> None:
        residents = options["residents"]
        show = not options["no_progress"] and self.stdout.isatty()
        with (
            audit_context(None, "command:seed_dummy"),
            tqdm(total=residents, unit="人", desc="seed_dummy", disable=not show, file=sys.stderr) as bar,
        ):
            try:
                result = seed_ward(
                    residents=residents,
                    seed=options["seed"],
                    batch_size=options["batch_size"],
                    as_of=options["as_of"],
                    append=options["append"],
                    use_copy=False if options["no_copy"] else None,
                    progress=bar.update,
                )
            except SeedRefused as exc:
                raise CommandError(str(exc)) from exc
        rows = "、".join(f"{label} {count:,}" for label, count in result.rows.items())
        self.stdout.write(
            f"住民 {result.residents:,} 人、附票の在籍者 {result.fuhyo_persons:,} 人を投入しました"
            f"（{result.seconds:.1f} 秒）。行数: {rows}"
        )
