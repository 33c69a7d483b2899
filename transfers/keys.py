"""This ward's key pair and its partners' public keys.

Our private keys come from two PEM files in `TRANSFERS_KEY_DIR` (`sign.pem`: Ed25519, `box.pem`: X25519, both
PKCS#8, mode 0600), written by `manage.py generate_ward_keys`; or, where files are unwelcome, from the settings
`TRANSFERS_SIGN_KEY` / `TRANSFERS_BOX_KEY` (the same PEM text). The public half is exported as a small JSON file
(`export_public_key`) that a partner imports with `register_partner`.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .envelope import Identity, PartnerKeys
from .models import Partner

SIGN_FILE = "sign.pem"
BOX_FILE = "box.pem"


def key_dir() -> Path:
    return Path(settings.TRANSFERS_KEY_DIR)


def _pem(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_identity(identity: Identity, directory: Path) -> None:
    """Write the two private keys, readable by the owner only."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, key in ((SIGN_FILE, identity.sign_key), (BOX_FILE, identity.box_key)):
        path = directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(_pem(key))
        path.chmod(0o600)


def _load_private(pem: bytes, kind: type) -> Any:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, kind):
        raise ImproperlyConfigured(f"鍵の種類が違います（{kind.__name__} が必要です）。")
    return key


@lru_cache(maxsize=4)
def _identity(code: str, directory: str, sign_setting: str, box_setting: str) -> Identity:
    if sign_setting and box_setting:
        sign_pem, box_pem = sign_setting.encode(), box_setting.encode()
    else:
        base = Path(directory)
        try:
            sign_pem, box_pem = (base / SIGN_FILE).read_bytes(), (base / BOX_FILE).read_bytes()
        except FileNotFoundError as exc:
            raise ImproperlyConfigured(
                f"この団体の鍵がありません（{base}）。`python manage.py generate_ward_keys` で作成してください。"
            ) from exc
    return Identity(code, _load_private(sign_pem, Ed25519PrivateKey), _load_private(box_pem, X25519PrivateKey))


def ward_identity() -> Identity:
    """Our keys, under our 地方公共団体コード."""
    return _identity(
        settings.WARD_LG_CODE,
        str(settings.TRANSFERS_KEY_DIR),
        settings.TRANSFERS_SIGN_KEY,
        settings.TRANSFERS_BOX_KEY,
    )


def forget_cached_identity() -> None:
    """After new keys were written (the key command, tests)."""
    _identity.cache_clear()


def public_key_document(identity: Identity, name: str) -> dict[str, str]:
    sign_public, box_public = identity.public.to_b64()
    return {"code": identity.code, "name": name, "sign_public": sign_public, "box_public": box_public}


def read_public_key_document(text: str) -> dict[str, str]:
    """Parse and check an exported public key file; raises ValueError with a Japanese message."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ValueError("公開鍵ファイルが JSON ではありません。") from exc
    missing = [name for name in ("code", "name", "sign_public", "box_public") if not document.get(name)]
    if missing:
        raise ValueError(f"公開鍵ファイルに項目がありません: {', '.join(missing)}")
    try:
        PartnerKeys.from_b64(document["code"], document["sign_public"], document["box_public"])
    except (ValueError, TypeError) as exc:
        raise ValueError("公開鍵の値が正しくありません。") from exc
    return document


def partner_keys(code: str) -> PartnerKeys | None:
    """The public keys of an active partner, or None: only partners in the table may talk to us."""
    partner = Partner.objects.filter(code=code, is_active=True).first()
    if partner is None:
        return None
    return PartnerKeys.from_b64(partner.code, partner.sign_public, partner.box_public)
