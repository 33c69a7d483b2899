"""Add (or update) a partner from its exported public key file, with the transport to reach it."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.errors import ServiceError
from transfers.partners import register_partner


class Command(BaseCommand):
    help = "通信相手を公開鍵ファイルから登録する（HTTP なら --endpoint、スプールなら --spool-dir）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="相手の export_public_key が書いた JSON")
        parser.add_argument("--transport", choices=["http", "spool"], default="http")
        parser.add_argument("--endpoint", default="", help="相手の受信口 URL（…/transfers/inbound/）")
        parser.add_argument("--spool-dir", default="", help="スプールディレクトリ")
        parser.add_argument("--name", default="", help="表示名（既定: ファイルの名称）")

    def handle(self, *args, **options) -> None:
        try:
            text = Path(options["file"]).read_text()
        except OSError as exc:
            raise CommandError(f"ファイルを読めません: {exc}") from exc
        try:
            partner, created = register_partner(
                text,
                transport=options["transport"],
                endpoint=options["endpoint"],
                spool_dir=options["spool_dir"],
                name=options["name"],
            )
        except ServiceError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        verb = "登録しました" if created else "更新しました"
        self.stdout.write(self.style.SUCCESS(f"通信相手を{verb}: {partner}（{partner.get_transport_display()}）"))
