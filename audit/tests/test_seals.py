"""Daily seals of the audit chain: signed files outside the database that catch even an owner of the database who
rewrites rows and recomputes the whole chain; seal_audit_chain and verify_audit_chain."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from audit import chain, seals
from audit.models import AuditChainHead, AuditLogEntry, BatchRun, ChainSeal
from common.batch import BatchExit
from common.testing.clock import JST
from transfers.tests.fake_partner import ward_identity_for_tests_fixture  # noqa: F401 - the fixture

DAY = dt.date(2026, 11, 25)  # the day the entries are written; the seals cover it once it has ended
ON_DAY = pytest.mark.time_machine(dt.datetime.combine(DAY, dt.time(10), tzinfo=JST))  # also for other seal tests
pytestmark = [pytest.mark.django_db, ON_DAY]


@pytest.fixture
def seal_dir(settings, tmp_path, ward_identity_for_tests):
    settings.AUDIT_SEAL_DIR = tmp_path / "seals"
    return settings.AUDIT_SEAL_DIR


@pytest.fixture
def tomorrow(monkeypatch):
    """The entries written now belong to a day that has ended: 'today' is tomorrow."""
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: DAY + dt.timedelta(days=1))
    return DAY + dt.timedelta(days=1)


def _append(n: int) -> list[AuditLogEntry]:
    return [
        chain.append(
            category="access",
            action="test.view",
            outcome="shown",
            username="clerk",
            subject_kind="resident",
            subject_ids=[i],
            conditions={},
        )
        for i in range(n)
    ]


def run_command(name: str, *args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
    except BatchExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def seal_today() -> tuple[int, str, str]:
    return run_command("seal_audit_chain", "--date", DAY.isoformat())


# --- Sealing -----------------------------------------------------------------------------------------------------


def test_a_day_is_sealed_in_a_signed_file_and_a_row(seal_dir, tomorrow, ward_identity_for_tests):
    entries = _append(3)
    code, out, _ = seal_today()
    assert code == 0
    path = seal_dir / f"audit-seal-{DAY.isoformat()}.json"
    document = json.loads(path.read_text())
    assert document["seal"] == {
        "format": 2,
        "ward": "131041",
        "sealed_on": DAY.isoformat(),
        "last_entry_id": entries[-1].pk,
        "last_hash": entries[-1].entry_hash,
        "entry_count": 3,
        "lanes": {str(entries[-1].lane): {"last_entry_id": entries[-1].pk, "last_hash": entries[-1].entry_hash}},
    }
    # The signature is the ward's: it verifies with the ward's public key over the canonical statement.
    signed = json.dumps(document["seal"], sort_keys=True, separators=(",", ":")).encode()
    ward_identity_for_tests.sign_key.public_key().verify(__import__("base64").b64decode(document["signature"]), signed)
    row = ChainSeal.objects.get()
    assert (row.sealed_on, row.last_entry_id, row.entry_count) == (DAY, entries[-1].pk, 3)
    assert row.file_path == str(path)
    assert "書き出し" in out
    assert BatchRun.objects.get(command="seal_audit_chain").counts["written"] == 1


def test_sealing_again_changes_nothing(seal_dir, tomorrow):
    _append(2)
    seal_today()
    path = seals.seal_path(DAY)
    before = path.read_bytes()
    code, out, _ = seal_today()
    assert code == 0
    assert "既存" in out
    assert path.read_bytes() == before
    assert ChainSeal.objects.count() == 1


def test_a_seal_with_different_content_is_never_overwritten(seal_dir, tomorrow):
    _append(2)
    seal_today()
    path = seals.seal_path(DAY)
    before = path.read_bytes()
    ChainSeal.objects.all().delete()  # even without its row, the file stays as it was
    _append(1)  # the head has moved on (as if the day were sealed before these entries)
    code, _, err = seal_today()
    assert code == 1
    assert "一致しません" in err
    assert path.read_bytes() == before
    assert ChainSeal.objects.count() == 0


def test_dry_run_writes_nothing(seal_dir, tomorrow):
    _append(1)
    code, out, _ = run_command("seal_audit_chain", "--dry-run", "--date", DAY.isoformat())
    assert code == 0
    assert out.startswith(f"{DAY}\t")
    assert "【試行】" in out
    assert not seal_dir.exists() or list(seal_dir.iterdir()) == []
    assert ChainSeal.objects.count() == 0


def test_today_cannot_be_sealed(seal_dir):
    with pytest.raises(Exception, match="昨日まで"):
        call_command("seal_audit_chain", "--date", DAY.isoformat(), stdout=StringIO())
    assert ChainSeal.objects.count() == 0


def test_missed_nights_are_caught_up(seal_dir):
    ChainSeal.objects.create(
        sealed_on=DAY - dt.timedelta(days=4), last_entry_id=0, last_hash="0" * 64, entry_count=0, signature="x"
    )
    assert seals.days_to_seal() == [DAY - dt.timedelta(days=n) for n in (3, 2, 1)]
    ChainSeal.objects.all().delete()
    assert seals.days_to_seal() == [DAY - dt.timedelta(days=1)]


def test_a_day_before_any_entry_seals_the_genesis(seal_dir):
    yesterday = DAY - dt.timedelta(days=1)
    _append(2)  # written today: after the end of yesterday
    result = seals.seal_day(yesterday)
    assert (result.head.last_entry_id, result.head.entry_count, result.head.last_hash) == (0, 0, "0" * 64)
    assert list(seals.verify_seals()) == []


# --- Verification ------------------------------------------------------------------------------------------------


def superuser_sql(statements: list[tuple[str, list]]) -> None:
    """What an owner of the database does: triggers off for the session, then plain SQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        for sql, params in statements:
            cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def _recompute_whole_chain() -> None:
    """Rehash every entry of every lane from the first, and move each lane's end: the chain alone is consistent
    again."""
    prev: dict[int, str] = {}
    last: dict[int, int] = {}
    statements = []
    for entry in AuditLogEntry.objects.order_by("pk"):
        values = {name: getattr(entry, name) for name in chain.HASHED_FIELDS}
        values["occurred_at"] = entry.occurred_at.isoformat(timespec="microseconds")
        values["prev_hash"] = prev.get(entry.lane, "0" * 64)
        new_hash = chain.content_hash(values)
        statements.append(
            (
                "UPDATE audit_auditlogentry SET prev_hash = %s, entry_hash = %s WHERE id = %s",
                [values["prev_hash"], new_hash, entry.pk],
            )
        )
        prev[entry.lane], last[entry.lane] = new_hash, entry.pk
    for lane, last_hash in prev.items():
        statements.append(
            (
                "UPDATE audit_auditchainhead SET last_hash = %s, last_entry_id = %s WHERE id = %s",
                [last_hash, last[lane], lane + 1],
            )
        )
    superuser_sql(statements)


def test_verify_passes_with_intact_seals(seal_dir, tomorrow):
    _append(3)
    seal_today()
    code, out, _ = run_command("verify_audit_chain")
    assert code == 0
    assert "封印 1 件" in out
    assert BatchRun.objects.filter(command="verify_audit_chain").get().counts["seals"] == 1


def test_rewritten_rows_with_a_recomputed_chain_are_caught_by_the_seal(seal_dir, tomorrow):
    entries = _append(4)
    seal_today()
    # The attacker changes whom entry #2 was about, then recomputes every hash after it and the head.
    superuser_sql([("UPDATE audit_auditlogentry SET subject_ids = %s WHERE id = %s", ["[999]", entries[1].pk])])
    _recompute_whole_chain()
    assert list(chain.verify()) == []  # the chain alone no longer shows anything
    code, _, err = run_command("verify_audit_chain")
    assert code == 1
    assert f"#{entries[-1].pk}" in err
    assert "封印のハッシュと一致しません" in err


def test_removed_rows_with_a_recomputed_chain_are_caught_by_the_count(seal_dir, tomorrow):
    entries = _append(4)
    seal_today()
    superuser_sql([("DELETE FROM audit_auditlogentry WHERE id = %s", [entries[1].pk])])
    _recompute_whole_chain()
    # The sealed last entry was rehashed too (its predecessor changed), so the hash check names it; had the
    # attacker kept the last row's hash, the count would.
    assert list(chain.verify()) == []
    problems = [str(p) for p in seals.verify_seals()]
    assert problems
    assert "封印" in problems[0]


def test_a_removed_seal_file_is_reported(seal_dir, tomorrow):
    _append(1)
    seal_today()
    seals.seal_path(DAY).chmod(0o644)
    seals.seal_path(DAY).unlink()
    code, _, err = run_command("verify_audit_chain")
    assert code == 1
    assert "封印ファイルがありません" in err


def test_a_forged_seal_file_fails_its_signature(seal_dir, tomorrow):
    _append(2)
    seal_today()
    path = seals.seal_path(DAY)
    document = json.loads(path.read_text())
    document["seal"]["entry_count"] = 1
    path.chmod(0o644)
    path.write_text(json.dumps(document))
    code, _, err = run_command("verify_audit_chain")
    assert code == 1
    assert "署名" in err


def test_a_seal_signed_with_another_key_fails(seal_dir, tomorrow, settings):
    from transfers.envelope import Identity
    from transfers.keys import forget_cached_identity, write_identity

    _append(1)
    seal_today()
    other = Identity.generate("131041")
    write_identity(other, settings.TRANSFERS_KEY_DIR)  # the ward's key replaced: the old seal no longer verifies
    forget_cached_identity()
    problems = [str(p) for p in seals.verify_seals()]
    assert len(problems) == 1
    assert "署名" in problems[0]


def test_verify_without_seals_checks_the_chain_only(seal_dir):
    _append(2)
    assert AuditChainHead.objects.count() == 8  # one end for each lane (settings.AUDIT_CHAIN_LANES)
    assert run_command("verify_audit_chain")[0] == 0
    assert run_command("verify_audit_chain", "--skip-seals")[0] == 0
