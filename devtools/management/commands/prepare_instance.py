"""`manage.py prepare_instance --public-key FILE [--key-name NAME] [--residents N --seed S]
[--cross-ward CODE --cross-ward-count K] [--demo-accounts FILE] [--jlis-key-dir DIR]`

Prepares one instance of this system, with the settings of the process (database, keys, broker come from its
environment), for `make run`'s partner (devtools/run_all.py) and the instances of the end-to-end tests and benchmarks
(devtools/instances.py): migrate; create the filesystem broker's folders and beat's schedule folder; seed N dummy
residents when the database has none; add this ward's side of the persons shared with CODE (seed_dummy
--cross-ward); write the demo accounts to a file; generate the ward keys if missing; export the public key to FILE;
prepare the simulated J-LIS's keys. Every step can run again: a second run adds nothing (the partner registration
that follows is the product command `register_partner`).
"""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from common.models import Municipality
from registry.models import Resident

BROKER_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


class Command(BaseCommand):
    help = "開発・試験用のインスタンスを準備する（migrate、ダミーデータ、鍵、公開鍵の書き出し）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--public-key", required=True, help="この区の公開鍵を書き出すファイル")
        parser.add_argument("--key-name", help="公開鍵に載せる名称（既定: 団体名、表になければ団体コード）")
        parser.add_argument("--residents", type=int, default=0, help="住民票がまだなければ生成する住民の数")
        parser.add_argument("--seed", type=int, default=0, help="--residents の乱数の種")
        parser.add_argument("--cross-ward", metavar="CODE", help="この団体と共通のダミー住民を加える")
        parser.add_argument("--cross-ward-count", type=int, default=20, help="共通のダミー住民の数（既定 20）")
        parser.add_argument("--demo-accounts", help="デモ用アカウントを作り、その一覧を書き出すファイル")
        parser.add_argument("--jlis-key-dir", type=Path, help="模擬 J-LIS の鍵を用意するディレクトリ")

    def handle(self, *args, **options) -> None:
        out = {"stdout": self.stdout, "stderr": self.stderr}
        call_command("migrate", interactive=False, verbosity=0, **out)
        self._make_folders()
        if options["residents"] and not Resident.objects.exists():
            call_command("seed_dummy", residents=options["residents"], seed=options["seed"], no_progress=True, **out)
        if options["cross_ward"]:
            call_command(
                "seed_dummy", cross_ward=options["cross_ward"], cross_ward_count=options["cross_ward_count"], **out
            )
        if options["demo_accounts"]:
            with open(options["demo_accounts"], "w", encoding="utf-8") as accounts:
                call_command("create_demo_users", force_demo=True, stdout=accounts, stderr=self.stderr)
        call_command("generate_ward_keys", if_missing=True, **out)
        call_command("export_public_key", output=options["public_key"], name=self._key_name(options), **out)
        if options["jlis_key_dir"]:
            call_command("run_jlis_simulator", init_only=True, key_dir=options["jlis_key_dir"], **out)

    def _make_folders(self) -> None:
        """kombu's filesystem transport does not create its folders, and the worker fails without them."""
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            for key in BROKER_FOLDERS:
                if settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(key):
                    Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]).mkdir(parents=True, exist_ok=True)
        Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent.mkdir(parents=True, exist_ok=True)

    def _key_name(self, options) -> str:
        if options["key_name"]:
            return options["key_name"]
        municipality = Municipality.objects.filter(code=settings.WARD_LG_CODE).first()
        return municipality.full_name if municipality else settings.WARD_LG_CODE
