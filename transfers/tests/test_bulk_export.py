"""jlis_bulk_export: every current 附票 person, streamed, encrypted for J-LIS, signed by the ward, with its 管理簿
entry; the file opens with J-LIS's key only, and damage or another signer is refused."""

import datetime as dt
import hashlib
import io
import json
import stat

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditLogEntry, HandoverRecord
from common.batch import BatchExit
from common.juminhyo_codes import juminhyo_code_for
from koseki_fuhyo.choices import EntryStatus
from koseki_fuhyo.models import FuhyoAddress
from koseki_fuhyo.tests.factories import FuhyoEntryFactory, KosekiFactory
from operations.stream_crypto import decrypt_chunks, read_header
from registry.tests.factories import ward
from transfers import payloads
from transfers.bulk_export import (
    ExportInvalid,
    _content_key,
    iter_persons,
    verify_export,
    write_export,
)
from transfers.envelope import Identity
from transfers.keys import write_identity
from transfers.models import Partner
from transfers.routing import JLIS

from .fake_partner import ward_identity_for_tests_fixture  # noqa: F401 - the ward's keys

CODES = [juminhyo_code_for(n) for n in (1, 2, 3)]  # the current persons of `ward_persons`, in code order

pytestmark = pytest.mark.django_db


@pytest.fixture(name="jlis")
def jlis_fixture(ward_identity_for_tests, settings, tmp_path) -> Identity:
    """J-LIS registered as a partner (its test keys written to tmp_path/jlis-keys); exports go to tmp_path."""
    identity = Identity.generate(JLIS)
    write_identity(identity, tmp_path / "jlis-keys")
    sign_public, box_public = identity.public.to_b64()
    Partner.objects.create(
        code=JLIS, name="J-LIS", endpoint="http://127.0.0.1:9/", sign_public=sign_public, box_public=box_public
    )
    settings.JLIS_EXPORT_DIR = tmp_path / "exports"
    return identity


def person(code: str, *, abroad: bool = False, removed: bool = False, address: bool = True):
    entry = FuhyoEntryFactory(
        koseki=KosekiFactory(),
        juminhyo_code=code,
        status=EntryStatus.REMOVED if removed else EntryStatus.CURRENT,
    )
    if address:
        FuhyoAddress.objects.create(
            entry=entry,
            municipality=None if abroad else ward(),
            is_abroad=abroad,
            country="アメリカ合衆国" if abroad else "",
            address="" if abroad else "西新宿二丁目8番1号",
            established_on=dt.date(2010, 4, 1),
            recorded_on=dt.date(2010, 4, 2),
            reason="転入",
        )
    return entry


@pytest.fixture(name="ward_persons")
def ward_persons_fixture():
    """Three current 附票 persons (one abroad, one without an address yet) and one removed."""
    return {
        "current": [person(CODES[0]), person(CODES[1], abroad=True), person(CODES[2], address=False)],
        "removed": person(juminhyo_code_for(9), removed=True),
    }


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("jlis_bulk_export", *args, stdout=out, stderr=err)
        return 0, out.getvalue(), err.getvalue()
    except BatchExit as exc:
        return exc.code, out.getvalue(), err.getvalue()


def decrypt_lines(path, jlis: Identity) -> list[dict]:
    with path.open("rb") as source:
        header_bytes, fields = read_header(source)
        key = _content_key(fields, jlis)
        text = b"".join(decrypt_chunks(source, key, header_bytes, fields))
    return [json.loads(line) for line in text.splitlines()]


def exported_file(tmp_path):
    files = list((tmp_path / "exports").glob("*.wenc"))
    assert len(files) == 1
    return files[0]


def test_every_current_person_is_exported_for_jlis_only(jlis, ward_persons, tmp_path):
    code, out, err = run()
    assert code == 0, err
    assert "3 件" in out
    path = exported_file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = path.read_bytes()
    assert CODES[0].encode() not in raw  # nothing in clear
    assert "山田".encode() not in raw

    lines = decrypt_lines(path, jlis)
    assert [line["juminhyo_code"] for line in lines] == CODES
    for line in lines:  # each line is the jlis_fuhyo person, as a notice would carry it
        payloads.validate(
            "jlis_fuhyo", 1, {"record_kind": "entry", "reason": "婚姻", "recorded_on": "2005-04-01", "person": line}
        )
    domestic, abroad, no_address = lines
    assert domestic["address"]["municipality"] == ward().code
    assert (abroad["address"]["is_abroad"], abroad["address"]["municipality"]) == (True, None)
    assert no_address["address"] is None


def test_the_export_writes_its_ledger_entry_and_audit_entry(jlis, ward_persons, tmp_path):
    assert run("--purpose", "J-LIS 再同期（試験）")[0] == 0
    path = exported_file(tmp_path)
    record = HandoverRecord.objects.get()
    assert record.kind == HandoverRecord.Kind.JLIS_EXPORT
    assert (record.handler, record.handler_name) == (None, "batch:jlis_bulk_export")
    assert record.purpose == "J-LIS 再同期（試験）"
    assert "J-LIS" in record.recipient
    assert (record.row_count, record.file_name) == (3, path.name)
    assert record.file_size == path.stat().st_size
    assert record.file_digest == hashlib.sha256(path.read_bytes()).hexdigest()
    entry = AuditLogEntry.objects.filter(category=AuditLogEntry.Category.OPERATION).latest("id")
    assert entry.conditions["handover_id"] == record.pk


def test_verify_checks_signature_and_count(jlis, ward_persons, tmp_path, ward_identity_for_tests):
    assert run()[0] == 0
    path = exported_file(tmp_path)
    verified = verify_export(path, ward_identity_for_tests.public, jlis)
    assert (verified.rows, verified.decrypted, verified.receiver) == (3, True, JLIS)

    code, out, _ = run("--verify", str(path), "--jlis-key-dir", str(tmp_path / "jlis-keys"))
    assert code == 0
    assert "3 件、復号して件数も確認" in out
    code, out, _ = run("--verify", str(path))
    assert code == 0
    assert "署名とハッシュを確認" in out


def test_a_damaged_or_cut_file_is_refused(jlis, ward_persons, tmp_path, ward_identity_for_tests):
    assert run()[0] == 0
    path = exported_file(tmp_path)
    original = path.read_bytes()

    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0x01
    path.write_bytes(bytes(flipped))
    for receiver in (jlis, None):
        with pytest.raises(ExportInvalid):
            verify_export(path, ward_identity_for_tests.public, receiver)
    code, _, err = run("--verify", str(path))
    assert code == 1
    assert "検証できません" in err

    path.write_bytes(original[: len(original) - 40])
    with pytest.raises(ExportInvalid, match="署名部がありません"):
        verify_export(path, ward_identity_for_tests.public, jlis)


def test_another_key_neither_opens_nor_signs_it(jlis, ward_persons, tmp_path, ward_identity_for_tests):
    assert run()[0] == 0
    path = exported_file(tmp_path)
    with pytest.raises(ExportInvalid, match="内容の鍵"):
        verify_export(path, ward_identity_for_tests.public, Identity.generate(JLIS))
    impostor = Identity.generate(ward_identity_for_tests.code)
    with pytest.raises(ExportInvalid, match="署名"):
        verify_export(path, impostor.public, jlis)


def test_rows_are_encrypted_and_written_while_they_are_still_being_read(jlis, ward_identity_for_tests):
    """Streaming: the first encrypted chunks reach the file long before the last row is pulled."""
    pulled = 0

    def rows():
        nonlocal pulled
        for number in range(500):
            pulled += 1
            yield {"juminhyo_code": juminhyo_code_for(number), "surname": "試験"}

    class Recorder(io.BytesIO):
        pulled_at_write: list[int] = []

        def write(self, data):
            self.pulled_at_write.append(pulled)
            return super().write(data)

    out = Recorder()
    written = write_export(out, rows(), ward_identity_for_tests, jlis.public, chunk_size=1024)
    assert written.rows == 500
    assert len(out.pulled_at_write) > 10
    assert out.pulled_at_write[1] < 50  # the header, then the first chunk after a few dozen rows


def test_the_register_is_read_in_chunks(ward_persons):
    """iter_persons is lazy: rows and their addresses are fetched a chunk at a time, not all at once."""
    persons = iter_persons(rows_per_query=2)
    with CaptureQueriesContext(connection) as queries:
        first = next(persons)
        address_queries = sum("koseki_fuhyo_fuhyoaddress" in q["sql"] for q in queries.captured_queries)
        assert first["juminhyo_code"] == CODES[0]
        assert address_queries == 1
        rest = list(persons)
        address_queries = sum("koseki_fuhyo_fuhyoaddress" in q["sql"] for q in queries.captured_queries)
    assert [p["juminhyo_code"] for p in rest] == CODES[1:]
    assert address_queries == 2  # three rows, two per query


def test_dry_run_counts_only(jlis, ward_persons, tmp_path):
    code, out, _ = run("--dry-run")
    assert code == 0
    assert "【試行】" in out
    assert "3 件" in out
    assert not (tmp_path / "exports").exists()
    assert not HandoverRecord.objects.exists()


def test_without_jlis_as_a_partner_nothing_is_written(ward_identity_for_tests, ward_persons, settings, tmp_path):
    settings.JLIS_EXPORT_DIR = tmp_path / "exports"
    code, _, err = run()
    assert code == 2
    assert "J-LIS が通信相手に登録されていません" in err
    assert not HandoverRecord.objects.exists()
