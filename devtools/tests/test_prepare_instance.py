"""`manage.py prepare_instance`: one instance's preparation for `make run` (devtools/run_all.py) and the end-to-end
instances (devtools/instances.py) — folders, dummy data, demo accounts, keys, the exported public key — and a
second run changes nothing."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from devtools.dummy.cross_ward import cross_ward_people
from koseki_fuhyo.models import FuhyoEntry
from registry.models import Resident
from transfers.keys import forget_cached_identity

SHINJUKU, SHIBUYA = "131041", "131130"

pytestmark = pytest.mark.django_db


@pytest.fixture
def var(tmp_path, settings):
    """Keys, beat's schedule and a filesystem broker of the test's own."""
    settings.TRANSFERS_KEY_DIR = tmp_path / "keys"
    settings.CELERY_BEAT_SCHEDULE_FILENAME = str(tmp_path / "beat" / "celerybeat-schedule")
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(tmp_path / "broker" / "out"),
        "data_folder_out": str(tmp_path / "broker" / "out"),
        "processed_folder": str(tmp_path / "broker" / "processed"),
    }
    forget_cached_identity()
    yield tmp_path
    forget_cached_identity()


def _prepare(**options) -> str:
    out = StringIO()
    call_command("prepare_instance", stdout=out, **options)
    return out.getvalue()


def _state(var) -> dict:
    return {
        "residents": sorted(Resident.objects.values_list("juminhyo_code", flat=True)),
        "fuhyo": FuhyoEntry.objects.count(),
        "users": sorted(get_user_model().objects.values_list("username", flat=True)),
        # every file but the demo accounts' list, rewritten with each account's state (作成 / 既存)
        "files": {p.relative_to(var): p.read_bytes() for p in var.rglob("*") if p.is_file() and p.suffix != ".txt"},
    }


def test_prepares_the_partner_of_make_run_and_a_second_run_changes_nothing(var):
    options = {
        "public_key": str(var / "public-key.json"),
        "residents": 12,
        "seed": 2,
        "cross_ward": SHIBUYA,
        "cross_ward_count": 4,
        "demo_accounts": str(var / "demo-accounts.txt"),
        "jlis_key_dir": var / "jlis" / "keys",
    }
    output = _prepare(**options)

    for folder in ("broker/out", "broker/processed", "beat"):
        assert (var / folder).is_dir()
    assert (var / "keys" / "sign.pem").exists()
    assert (var / "keys" / "box.pem").exists()
    document = json.loads((var / "public-key.json").read_text())
    assert (document["code"], document["name"]) == (SHINJUKU, "東京都新宿区")
    assert "PRIVATE" not in (var / "public-key.json").read_text()
    # 12 seeded residents, and the 2 of the 4 shared persons who live here (the other 2 have their 附票 here)
    assert Resident.objects.count() == 12 + 2
    shared = [person.juminhyo_code for person in cross_ward_people(SHINJUKU, SHIBUYA, 4, 0)]
    assert Resident.objects.filter(juminhyo_code__in=shared).count() == 2
    assert FuhyoEntry.objects.filter(juminhyo_code__in=shared).count() == 2
    assert "username=clerk" in (var / "demo-accounts.txt").read_text(encoding="utf-8")
    assert json.loads((var / "jlis" / "keys" / "public.json").read_text())["sign_public"]
    assert "鍵を作成しました" in output

    before = _state(var)
    output = _prepare(**options)
    assert _state(var) == before
    assert "鍵はすでにあります" in output
    accounts = (var / "demo-accounts.txt").read_text(encoding="utf-8")
    assert "[既存]" in accounts
    assert "[作成]" not in accounts


def test_seeds_nothing_unless_asked_and_names_the_key_as_told(var):
    _prepare(public_key=str(var / "public-key.json"), key_name=SHINJUKU)
    assert not Resident.objects.exists()
    assert not FuhyoEntry.objects.exists()
    assert not get_user_model().objects.exists()
    assert json.loads((var / "public-key.json").read_text())["name"] == SHINJUKU


def test_does_not_seed_residents_into_a_ward_that_has_some(var):
    _prepare(public_key=str(var / "public-key.json"), residents=5, seed=1)
    codes = set(Resident.objects.values_list("juminhyo_code", flat=True))
    _prepare(public_key=str(var / "public-key.json"), residents=7, seed=3)
    assert set(Resident.objects.values_list("juminhyo_code", flat=True)) == codes
