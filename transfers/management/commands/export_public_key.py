"""Write this ward's public keys as the JSON file a partner imports with `register_partner`."""

import json
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from common.models import Municipality
from transfers.keys import public_key_document, ward_identity


class Command(BaseCommand):
    help = "この団体の公開鍵（署名検証鍵・暗号化鍵）を JSON で書き出す"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", help="書き出すファイル（既定: 標準出力）")
        parser.add_argument("--name", help="相手の表に載せる名称（既定: 団体名）")

    def handle(self, *args, **options) -> None:
        try:
            identity = ward_identity()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        municipality = Municipality.objects.filter(code=identity.code).first()
        name = options["name"] or (str(municipality) if municipality else identity.code)
        text = json.dumps(public_key_document(identity, name), ensure_ascii=False, indent=2) + "\n"
        if options["output"]:
            Path(options["output"]).write_text(text)
            self.stdout.write(f"公開鍵を書き出しました: {options['output']}")
        else:
            self.stdout.write(text, ending="")
