"""Shared by the inbound tests: a test identity for this ward (keys in a tmp dir), registered partners, sealed
envelopes, payloads, and a look at the audit entries a delivery wrote."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from audit.models import AuditLogEntry
from transfers.envelope import Header, Identity, new_header, seal
from transfers.keys import forget_cached_identity, write_identity
from transfers.models import Partner

SHIBUYA, NAKANO, SUGINAMI = "131130", "131148", "131156"
URL = "/transfers/inbound/"


@pytest.fixture(name="ward")
def ward_fixture(tmp_path, settings) -> Identity:
    """This ward's keys, written where ward_identity() reads them."""
    settings.TRANSFERS_KEY_DIR = tmp_path / "keys"
    settings.TRANSFERS_SIGN_KEY = ""
    settings.TRANSFERS_BOX_KEY = ""
    identity = Identity.generate(settings.WARD_LG_CODE)
    write_identity(identity, settings.TRANSFERS_KEY_DIR)
    forget_cached_identity()
    yield identity
    forget_cached_identity()


def register(identity: Identity, **fields: Any) -> Partner:
    sign_public, box_public = identity.public.to_b64()
    defaults = {
        "name": f"相手 {identity.code}",
        "transport": "http",
        "endpoint": "http://127.0.0.1:9/transfers/inbound/",
    }
    return Partner.objects.create(
        code=identity.code, sign_public=sign_public, box_public=box_public, **{**defaults, **fields}
    )


@pytest.fixture(name="shibuya")
def shibuya_fixture(ward, db) -> Identity:
    """A registered partner (渋谷区) that sends to us."""
    identity = Identity.generate(SHIBUYA)
    register(identity)
    return identity


def sealed(
    sender: Identity,
    ward: Identity,
    kind: str,
    payload: dict[str, Any],
    *,
    message_id: str | None = None,
    header: Header | None = None,
) -> bytes:
    header = header or new_header(kind, 1, sender.code, ward.code, message_id)
    return seal(header, payload, sender, ward.public)


def post(client, raw: bytes):
    return client.post(URL, data=raw, content_type="application/json")


def last_entry_id() -> int:
    return AuditLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def entries_after(mark: int) -> list[tuple[str, str, str]]:
    """(action, outcome, code) of the transmission entries written after `mark`."""
    return [
        (e.action, e.outcome, e.conditions.get("code", ""))
        for e in AuditLogEntry.objects.filter(pk__gt=mark).order_by("pk")
    ]


def person(**overrides: Any) -> dict[str, Any]:
    """A flat person of the payload contract (a resident of 渋谷区 whose 本籍 is in this ward)."""
    items = {
        "juminhyo_code": None,
        "surname": "山田",
        "given_name": "太郎",
        "surname_kana": "ヤマダ",
        "given_name_kana": "タロウ",
        "birth_date": "1980-05-01",
        "sex": "1",
        "honseki_municipality": "131041",
        "honseki_address": "北新宿一丁目1番",
        "hittousha_name": "山田　太郎",
        "address_municipality": SHIBUYA,
        "address": "神南一丁目2番3号",
        "katagaki": None,
        "address_established_on": "2026-11-10",
    }
    return {**items, **overrides}


def fuhyo_items(who: dict[str, Any], *, reason="move_in", change_class="entry", change_date="2026-11-10", before=None):
    return {
        "person": who,
        "change": {
            "reason": reason,
            "change_class": change_class,
            "change_date": change_date,
            "notified_on": "2026-11-12",
            "previous_address": "東京都新宿区西新宿二丁目1番1号",
            "new_address": "東京都渋谷区神南一丁目2番3号",
        },
        "before": before,
    }


def stale_header(kind: str, sender: str, receiver: str, minutes: int) -> Header:
    fresh = new_header(kind, 1, sender, receiver)
    created = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
    return Header(**{**fresh.__dict__, "created_at": created.isoformat(timespec="microseconds")})


def koseki_person(juminhyo_code: str, honseki_address: str = "北新宿一丁目1番"):
    """A person (山田 太郎) in a 戸籍 of this ward with an address in the ward: the 本籍地 side of the tests."""
    from koseki_fuhyo.models import FuhyoAddress
    from koseki_fuhyo.tests.factories import FuhyoEntryFactory, KosekiFactory
    from registry.tests.factories import ward as ward_municipality

    koseki = KosekiFactory(honseki_address=honseki_address)
    entry = FuhyoEntryFactory(koseki=koseki, juminhyo_code=juminhyo_code)
    FuhyoAddress.objects.create(
        entry=entry,
        municipality=ward_municipality(),
        address="西新宿二丁目1番1号",
        established_on=dt.date(2010, 4, 1),
        recorded_on=dt.date(2010, 4, 1),
        reason="転入",
    )
    return entry
