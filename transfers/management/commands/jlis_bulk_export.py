"""`manage.py jlis_bulk_export [--output F] [--purpose TEXT] [--dry-run]`: the whole 附票本人確認情報 of the ward
for J-LIS (initial load or re-sync) as one streamed file, encrypted for J-LIS and signed by this ward
(transfers.bulk_export), with its 管理簿 entry. `--verify F [--jlis-key-dir D]`: check a file's signature and
digest with this ward's public key; with J-LIS's private keys (the simulator's or a test's key directory) also
decrypt it and count the rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandParser

from audit.exports.archive import WrittenFile
from audit.exports.ledger import record_handover
from audit.models import HandoverRecord
from common.batch import CRASHED, PROBLEMS, BatchCommand, BatchOutcome, Run
from transfers.bulk_export import ExportInvalid, current_entries, export_to, iter_persons, verify_export
from transfers.envelope import Identity, PartnerKeys
from transfers.keys import BOX_FILE, SIGN_FILE, ward_identity
from transfers.models import Partner
from transfers.routing import JLIS

DEFAULT_PURPOSE = "附票本人確認情報の一括提供（J-LIS の初期登録・再同期）"
RECIPIENT = "J-LIS（地方公共団体情報システム機構）"
CONTENT = "在籍中の附票記載の全件の附票本人確認情報（jlis_fuhyo 第1版の person、JSON Lines、暗号化・署名付き）"


def jlis_keys() -> PartnerKeys:
    partner = Partner.objects.filter(code=JLIS, is_active=True).first()
    if partner is None:
        raise ImproperlyConfigured("J-LIS が通信相手に登録されていません（register_partner で公開鍵を登録）。")
    return PartnerKeys.from_b64(JLIS, partner.sign_public, partner.box_public)


def load_identity(code: str, directory: Path) -> Identity:
    """Private keys as generate_ward_keys writes them (sign.pem, box.pem)."""
    try:
        sign = serialization.load_pem_private_key((directory / SIGN_FILE).read_bytes(), password=None)
        box = serialization.load_pem_private_key((directory / BOX_FILE).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"鍵を読めません（{directory}）。") from exc
    if not isinstance(sign, Ed25519PrivateKey) or not isinstance(box, X25519PrivateKey):
        raise ImproperlyConfigured(f"鍵の種類が違います（{directory}）。")
    return Identity(code, sign, box)


class Command(BatchCommand):
    help = "附票本人確認情報の全件を J-LIS 向けに暗号化・署名したファイルに書き出し、管理簿に記録します。"
    supports_dry_run = True

    def add_batch_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", help="書き出すファイル（既定 JLIS_EXPORT_DIR/jlis-fuhyo-<団体コード>-<日時>.wenc）"
        )
        parser.add_argument("--purpose", default=DEFAULT_PURPOSE, help="管理簿に書く目的")
        parser.add_argument("--verify", metavar="FILE", help="書き出さず、このファイルの署名とハッシュを検証する")
        parser.add_argument(
            "--jlis-key-dir", help="--verify で J-LIS の秘密鍵（sign.pem, box.pem）も使い、復号して件数を確かめる"
        )

    def run_batch(self, run: Run, **options: Any) -> BatchOutcome:
        try:
            me = ward_identity()
            if options.get("verify"):
                return self._verify(Path(options["verify"]), me, options.get("jlis_key_dir"))
            jlis = jlis_keys()
        except ImproperlyConfigured as exc:
            return BatchOutcome(f"書き出せません: {exc}", CRASHED)
        total = current_entries().count()
        if run.dry_run:
            return BatchOutcome(f"附票本人確認情報 {total} 件を J-LIS 向けに書き出す予定です。", counts={"rows": total})
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        path = Path(options.get("output") or settings.JLIS_EXPORT_DIR / f"jlis-fuhyo-{me.code}-{stamp}.wenc")
        if path.exists():
            return BatchOutcome(f"{path} はすでにあります。", CRASHED)
        persons = run.progress(iter_persons(), total=total, desc="附票本人確認情報", unit="人")
        written = export_to(path, persons, me, jlis)
        actor = run.record.actor
        record_handover(
            kind=HandoverRecord.Kind.JLIS_EXPORT,
            handler=actor,
            handler_name=f"batch:{self.batch_name}",
            purpose=options["purpose"],
            recipient=RECIPIENT,
            content=CONTENT,
            conditions={"file_id": written.file_id, "batch_run": run.record.pk, "receiver": JLIS},
            written=WrittenFile(path=path, size=written.size, digest=written.sha256, row_count=written.rows),
            file_name=path.name,
        )
        return BatchOutcome(
            f"附票本人確認情報 {written.rows} 件を {path.name} に書き出しました（{written.size} バイト、"
            f"SHA-256 {written.sha256[:16]}…）。管理簿に記録しました。",
            counts={"rows": written.rows, "bytes": written.size},
        )

    @staticmethod
    def _verify(path: Path, me: Identity, key_dir: str | None) -> BatchOutcome:
        receiver = load_identity(JLIS, Path(key_dir)) if key_dir else None
        if not path.is_file():
            return BatchOutcome(f"{path} がありません。", CRASHED)
        try:
            verified = verify_export(path, me.public, receiver)
        except ExportInvalid as exc:
            return BatchOutcome(f"{path.name} は検証できません: {exc}", PROBLEMS, {"problems": 1})
        how = "復号して件数も確認" if verified.decrypted else "署名とハッシュを確認（復号は J-LIS の鍵で）"
        return BatchOutcome(f"{path.name}: {verified.rows} 件、{how}しました。", counts={"rows": verified.rows})
