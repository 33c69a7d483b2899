"""Registering the partners this ward exchanges notices with (the 通信相手 table)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from common.errors import ServiceError
from common.validators import validate_partner_code

from .delivery import requeue_unconnected
from .keys import read_public_key_document
from .models import Partner


@transaction.atomic
def register_partner(
    document_text: str,
    *,
    transport: str,
    endpoint: str = "",
    spool_dir: str = "",
    name: str = "",
) -> tuple[Partner, bool]:
    """Add or update a partner from its exported public key file. Returns (partner, created)."""
    try:
        document = read_public_key_document(document_text)
    except ValueError as exc:
        raise ServiceError({"file": [str(exc)]}) from exc
    try:
        validate_partner_code(document["code"])  # Partner.code's validator: the check digit, or J-LIS
    except ValidationError as exc:
        raise ServiceError({"file": [f"公開鍵ファイルの団体コード: {message}" for message in exc.messages]}) from None
    if transport == Partner.Transport.HTTP and not endpoint:
        raise ServiceError({"endpoint": ["HTTP の相手には送信先URLが必要です。"]})
    if transport == Partner.Transport.SPOOL and not spool_dir:
        raise ServiceError({"spool_dir": ["スプールの相手にはディレクトリが必要です。"]})
    if transport not in Partner.Transport.values:
        raise ServiceError({"transport": ["送受信方式は http か spool です。"]})
    partner, created = Partner.objects.update_or_create(
        code=document["code"],
        defaults={
            "name": name or document["name"],
            "transport": transport,
            "endpoint": endpoint,
            "spool_dir": spool_dir,
            "sign_public": document["sign_public"],
            "box_public": document["box_public"],
            "is_active": True,
        },
    )
    requeue_unconnected(partner.code)  # notices written before the connection existed go out now
    return partner, created
