"""The key commands: generate this ward's keys, export the public half, register a partner from it."""

import json
import stat

import pytest
from django.core.management import CommandError, call_command

from transfers.envelope import Identity, new_header, open_envelope, seal
from transfers.keys import forget_cached_identity, partner_keys, public_key_document, ward_identity
from transfers.models import Partner


@pytest.fixture
def key_dir(tmp_path, settings):
    settings.TRANSFERS_KEY_DIR = tmp_path / "keys"
    forget_cached_identity()
    yield settings.TRANSFERS_KEY_DIR
    forget_cached_identity()


@pytest.mark.django_db
def test_generate_writes_private_keys_readable_by_owner_only(key_dir, tmp_path):
    call_command("generate_ward_keys", export=str(tmp_path / "pub.json"))
    for name in ("sign.pem", "box.pem"):
        assert stat.S_IMODE((key_dir / name).stat().st_mode) == 0o600
    document = json.loads((tmp_path / "pub.json").read_text())
    assert document["code"] == "131041"
    assert len(document["sign_public"]) == 44
    assert "PRIVATE" not in (tmp_path / "pub.json").read_text()


def test_generate_refuses_to_overwrite_without_force(key_dir):
    call_command("generate_ward_keys")
    first = (key_dir / "sign.pem").read_bytes()
    with pytest.raises(CommandError, match="すでにあります"):
        call_command("generate_ward_keys")
    call_command("generate_ward_keys", if_missing=True)
    assert (key_dir / "sign.pem").read_bytes() == first
    call_command("generate_ward_keys", force=True)
    assert (key_dir / "sign.pem").read_bytes() != first


def test_missing_keys_give_a_clear_error(key_dir):
    with pytest.raises(CommandError, match="generate_ward_keys"):
        call_command("export_public_key")


@pytest.mark.django_db
def test_export_then_register_lets_the_partner_open_our_messages(key_dir, tmp_path):
    call_command("generate_ward_keys")
    exported = tmp_path / "shinjuku.json"
    call_command("export_public_key", output=str(exported))
    ours = ward_identity()
    # the partner (渋谷区) registers us from the exported file, over HTTP
    call_command("register_partner", str(exported), transport="http", endpoint="http://127.0.0.1:9/transfers/inbound/")
    partner = Partner.objects.get(code="131041")
    assert partner.transport == "http"
    assert partner.is_active
    shibuya = Identity.generate("131130")
    raw = seal(new_header("fuhyo_items", 1, "131041", "131130"), {"a": 1}, ours, shibuya.public)
    assert open_envelope(raw, shibuya, partner_keys).body == {"a": 1}


@pytest.mark.django_db
def test_register_partner_updates_keys_and_refuses_bad_input(tmp_path):
    shibuya = Identity.generate("131130")
    path = tmp_path / "shibuya.json"
    path.write_text(json.dumps(public_key_document(shibuya, "渋谷区")))
    call_command("register_partner", str(path), transport="spool", spool_dir=str(tmp_path / "cs"))
    renewed = Identity.generate("131130")
    path.write_text(json.dumps(public_key_document(renewed, "渋谷区")))
    call_command("register_partner", str(path), transport="spool", spool_dir=str(tmp_path / "cs"))
    assert Partner.objects.count() == 1
    assert partner_keys("131130").to_b64() == renewed.public.to_b64()
    with pytest.raises(CommandError, match="送信先URL"):
        call_command("register_partner", str(path), transport="http")
    path.write_text("{}")
    with pytest.raises(CommandError, match="項目がありません"):
        call_command("register_partner", str(path), transport="spool", spool_dir="x")
    with pytest.raises(CommandError, match="読めません"):
        call_command("register_partner", str(tmp_path / "missing.json"), transport="spool", spool_dir="x")


@pytest.mark.django_db
def test_inactive_partner_has_no_keys(tmp_path):
    shibuya = Identity.generate("131130")
    sign, box = shibuya.public.to_b64()
    Partner.objects.create(code="131130", name="渋谷区", sign_public=sign, box_public=box, is_active=False)
    assert partner_keys("131130") is None


def test_keys_from_settings_instead_of_files(settings, tmp_path):
    from transfers.keys import _pem

    identity = Identity.generate("131041")
    settings.TRANSFERS_KEY_DIR = tmp_path / "nothing-here"
    settings.TRANSFERS_SIGN_KEY = _pem(identity.sign_key).decode()
    settings.TRANSFERS_BOX_KEY = _pem(identity.box_key).decode()
    forget_cached_identity()
    try:
        assert ward_identity().public.to_b64() == identity.public.to_b64()
    finally:
        forget_cached_identity()
