"""backup and restore_check: the round trip on PostgreSQL (pg_dump → encrypted set → pg_restore into a scratch
database → counts and checksums equal to the manifest), damaged backups refused, rotation, keys, SQLite refused."""

import base64
import io
import json
import os
import shutil
import stat
import tarfile

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from audit.models import BatchRun
from common.batch import BatchExit
from operations import pg
from operations.backup import DUMP_FILE, MANIFEST_FILE, SEALS_FILE, backup_sets, manifest_mac, master_key, rotate
from operations.pg import OpsError
from operations.restore import SCRATCH_PREFIX, BackupInvalid, compare, load_manifest

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = connection.vendor == "postgresql"
postgresql_only = pytest.mark.skipif(
    not ON_POSTGRESQL, reason="pg_dump and pg_restore need PostgreSQL (CI runs the tests with DATABASE_URL)"
)


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(name="backups")
def backups_fixture(settings, tmp_path):
    """An empty backup directory, a key, and a seal directory with two seal files."""
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.BACKUP_KEY = new_key()
    settings.BACKUP_KEY_FILE = ""
    seals = tmp_path / "seals"
    (seals / "2026").mkdir(parents=True)
    (seals / "2026" / "2026-11-24.json").write_text('{"sealed_on": "2026-11-24", "last_hash": "ab"}')
    (seals / "2026" / "2026-11-25.json").write_text('{"sealed_on": "2026-11-25", "last_hash": "cd"}')
    settings.AUDIT_SEAL_DIR = seals
    return settings.BACKUP_DIR


def run(name: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
        code = 0
    except BatchExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def scratch_databases() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [SCRATCH_PREFIX + "%"])
        return {row[0] for row in cursor.fetchall()}


def only_set(directory):
    sets = backup_sets(directory)
    assert len(sets) == 1
    return sets[0]


# --- PostgreSQL: the round trip -----------------------------------------------------------------------------------


@postgresql_only
def test_backup_then_restore_check_round_trip(backups):
    code, out, err = run("backup")
    assert code == 0, err
    assert "を作成しました" in out
    backup = only_set(backups)
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700
    assert {path.name for path in backup.iterdir()} == {DUMP_FILE, SEALS_FILE, MANIFEST_FILE}
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in backup.iterdir())
    assert not (backup / DUMP_FILE).read_bytes().startswith(b"PGDMP")  # encrypted, not a plain dump

    manifest = json.loads((backup / MANIFEST_FILE).read_text())
    migrations = manifest["tables"]["public.django_migrations"]
    assert migrations["rows"] == MigrationRecorder.Migration.objects.count() > 0
    assert manifest["seals"]["count"] == 2
    assert manifest["files"][DUMP_FILE]["size"] == (backup / DUMP_FILE).stat().st_size

    before = scratch_databases()
    code, out, err = run("restore_check")
    assert code == 0, err
    assert "マニフェストと一致しました" in out
    assert "封印ファイル 2 件一致" in out
    assert scratch_databases() == before  # the scratch database was dropped
    check = BatchRun.objects.get(command="restore_check")
    assert (check.status, check.exit_code, check.counts["mismatches"]) == (BatchRun.Status.SUCCEEDED, 0, 0)
    assert check.counts["tables"] == manifest["totals"]["tables"]


@postgresql_only
def test_a_tampered_backup_fails_with_a_clear_message(backups):
    assert run("backup")[0] == 0
    dump = only_set(backups) / DUMP_FILE
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one byte
    dump.write_bytes(bytes(data))
    before = scratch_databases()

    code, out, err = run("restore_check")

    assert code == 1
    assert "改ざんまたは破損" in err
    assert scratch_databases() == before
    assert BatchRun.objects.get(command="restore_check").status == BatchRun.Status.FAILED


@postgresql_only
def test_a_truncated_backup_is_detected(backups):
    assert run("backup")[0] == 0
    dump = only_set(backups) / DUMP_FILE
    data = dump.read_bytes()
    dump.write_bytes(data[: len(data) * 2 // 3])

    code, out, err = run("restore_check")

    assert code == 1
    assert "途中で切れて" in err or "改ざんまたは破損" in err


@postgresql_only
def test_a_tampered_seal_archive_fails(backups):
    assert run("backup")[0] == 0
    seals = only_set(backups) / SEALS_FILE
    data = bytearray(seals.read_bytes())
    data[-3] ^= 0xFF
    seals.write_bytes(bytes(data))
    code, out, err = run("restore_check")
    assert code == 1
    assert SEALS_FILE in err


@postgresql_only
def test_rotation_keeps_the_newest(backups):
    assert run("backup")[0] == 0
    first = only_set(backups)
    code, out, _ = run("backup", "--keep", "1")
    assert code == 0
    assert "古い世代を 1 件消しました" in out
    assert backup_sets(backups) != [first]
    assert len(backup_sets(backups)) == 1


@postgresql_only
def test_dry_run_writes_nothing(backups):
    code, out, _ = run("backup", "--dry-run")
    assert code == 0
    assert "【試行】" in out
    assert backup_sets(backups) == []


@postgresql_only
def test_decrypt_to_gives_a_dump_pg_restore_reads(backups, tmp_path):
    assert run("backup")[0] == 0
    target = tmp_path / "restore" / "ward.dump"
    target.parent.mkdir()
    code, out, err = run("restore_check", "--decrypt-to", str(target))
    assert code == 0, err
    assert target.read_bytes().startswith(b"PGDMP")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    seals = tmp_path / "restore" / "seals.tar"
    code, out, err = run("restore_check", "--decrypt-to", str(seals), "--part", "seals")
    assert code == 0, err
    with tarfile.open(seals) as tar:
        assert sorted(tar.getnames()) == ["seals/2026/2026-11-24.json", "seals/2026/2026-11-25.json"]


@postgresql_only
def test_without_a_key_the_backup_does_not_run(backups, settings):
    settings.BACKUP_KEY = ""
    code, _, err = run("backup")
    assert code == 2
    assert "BACKUP_KEY" in err
    assert backup_sets(backups) == []


@postgresql_only
def test_another_key_cannot_check_the_backup(backups, settings):
    assert run("backup")[0] == 0
    settings.BACKUP_KEY = new_key()
    code, _, err = run("restore_check")
    assert code == 2
    assert "鍵が違います" in err


@postgresql_only
def test_pg_dump_older_than_the_server_is_refused():
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    with pytest.raises(OpsError, match="より古い"):
        pg.tool("pg_dump", 99)


# --- Everywhere -----------------------------------------------------------------------------------------------


@pytest.mark.skipif(ON_POSTGRESQL, reason="the SQLite answer")
def test_on_sqlite_backup_says_postgresql_only(backups):
    code, _, err = run("backup")
    assert code == 2
    assert "PostgreSQL だけ" in err
    assert BatchRun.objects.get(command="backup").exit_code == 2


def test_restore_check_without_backups_is_an_error(backups):
    code, _, err = run("restore_check")
    assert code == 2
    assert "バックアップがありません" in err


def test_the_key_file_must_not_lie_with_the_backups(backups, settings):
    backups.mkdir(parents=True)
    key_file = backups / "backup.key"
    key_file.write_text(new_key())
    settings.BACKUP_KEY = ""
    settings.BACKUP_KEY_FILE = str(key_file)
    with pytest.raises(OpsError, match="同じディレクトリ"):
        master_key()


def test_the_key_may_come_from_a_file_elsewhere(backups, settings, tmp_path):
    key = os.urandom(32)
    key_file = tmp_path / "keys" / "backup.key"
    key_file.parent.mkdir()
    key_file.write_text(base64.b64encode(key).decode() + "\n")
    settings.BACKUP_KEY = ""
    settings.BACKUP_KEY_FILE = str(key_file)
    assert master_key() == key


def test_a_short_key_is_refused(settings):
    settings.BACKUP_KEY = base64.b64encode(b"short").decode()
    with pytest.raises(OpsError, match="32バイト"):
        master_key()


def fake_set(directory, name: str):
    path = directory / name
    path.mkdir(parents=True)
    (path / MANIFEST_FILE).write_text("{}")
    return path


def test_rotation_removes_the_oldest_sets_only(tmp_path):
    names = [f"ward-2026112{day}T020000-000000Z" for day in range(1, 6)]
    for name in names:
        fake_set(tmp_path, name)
    (tmp_path / "unrelated").mkdir()
    assert rotate(tmp_path, 3, dry_run=True) == names[:2]
    assert len(backup_sets(tmp_path)) == 5
    assert rotate(tmp_path, 3) == names[:2]
    assert [path.name for path in backup_sets(tmp_path)] == names[2:]
    assert (tmp_path / "unrelated").is_dir()


def test_a_changed_manifest_is_refused(tmp_path):
    key = os.urandom(32)
    from operations.backup import key_id

    manifest = {"format": "ward-backup-v1", "key_id": key_id(key), "tables": {"public.t": {"rows": 3, "checksum": "9"}}}
    manifest["mac"] = manifest_mac(key, manifest)
    path = fake_set(tmp_path, "ward-20261125T020000-000000Z")
    (path / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert load_manifest(path, key)["tables"]["public.t"]["rows"] == 3

    manifest["tables"]["public.t"]["rows"] = 4
    (path / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(BackupInvalid, match="マニフェストが改ざん"):
        load_manifest(path, key)


def test_compare_names_tables_and_numbers_only():
    expected = {
        "public.a": {"rows": 2, "checksum": "10"},
        "public.b": {"rows": 1, "checksum": "5"},
        "public.c": {"rows": 1, "checksum": "7"},
    }
    actual = {
        "public.a": {"rows": 2, "checksum": "10"},
        "public.b": {"rows": 1, "checksum": "6"},
        "public.d": {"rows": 0, "checksum": "0"},
    }
    assert compare(expected, actual) == [
        "public.b: 件数は同じ 1 件、検査値が違います",
        "public.c: 表がありません",
        "public.d: マニフェストにない表です",
    ]
    assert compare(expected, expected) == []
