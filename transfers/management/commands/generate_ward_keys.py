"""Generate this ward's key pair (Ed25519 to sign, X25519 to be encrypted for) and export the public half."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from common.models import Municipality
from transfers.envelope import Identity
from transfers.keys import SIGN_FILE, forget_cached_identity, key_dir, public_key_document, write_identity


class Command(BaseCommand):
    help = "この団体の鍵ペアを作成し、公開鍵を JSON で書き出す（既存の鍵は --force がなければ上書きしない）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dir", help="秘密鍵を置くディレクトリ（既定: TRANSFERS_KEY_DIR）")
        parser.add_argument("--export", help="公開鍵を書き出すファイル（既定: 標準出力）")
        parser.add_argument("--force", action="store_true", help="既存の鍵を作り直す（相手への再登録が必要）")
        parser.add_argument("--if-missing", action="store_true", help="鍵があれば何もしない（make run 用）")

    def handle(self, *args, **options) -> None:
        directory = Path(options["dir"]) if options["dir"] else key_dir()
        exists = (directory / SIGN_FILE).exists()
        if exists and options["if_missing"]:
            self.stdout.write(f"鍵はすでにあります: {directory}")
            return
        if exists and not options["force"]:
            raise CommandError(f"鍵はすでにあります（{directory}）。作り直すときは --force を付けてください。")
        identity = Identity.generate(settings.WARD_LG_CODE)
        write_identity(identity, directory)
        forget_cached_identity()
        self.stdout.write(self.style.SUCCESS(f"鍵を作成しました: {directory}（{settings.WARD_LG_CODE}）"))
        if options["export"]:
            self._export(identity, options["export"])

    def _export(self, identity: Identity, path: str) -> None:
        municipality = Municipality.objects.filter(code=identity.code).first()
        name = str(municipality) if municipality else identity.code
        Path(path).write_text(json.dumps(public_key_document(identity, name), ensure_ascii=False, indent=2) + "\n")
        self.stdout.write(f"公開鍵を書き出しました: {path}")
