"""The tail witness of the audit chain (audit/witness.py): today's entries, which no daily seal covers yet, cannot be
cut off by an owner of the database who also moves the lane's end back (issue 12, finding 9)."""

import datetime as dt
import json
import logging
import stat

import pytest

from audit import chain, seals, tasks, witness
from audit.models import AuditLogEntry
from common.testing.clock import JST
from transfers.tests.fake_partner import ward_identity_for_tests_fixture  # noqa: F401 - the fixture

from .test_chain_lanes import append_on
from .test_seals import DAY, run_command, seal_dir, superuser_sql  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("seal_dir"),
    pytest.mark.time_machine(dt.datetime.combine(DAY, dt.time(10), tzinfo=JST)),
]


def _cut_tail(lane_entries: list[AuditLogEntry], keep: int) -> None:
    """What the owner of the database does: delete the lane's last rows and move the lane's end back to the last row
    kept, so that the chain alone is complete again."""
    removed, kept = lane_entries[keep:], lane_entries[keep - 1]
    statements = [("DELETE FROM audit_auditlogentry WHERE id = %s", [entry.pk]) for entry in removed]
    statements.append(
        (
            "UPDATE audit_auditchainhead SET last_entry_id = %s, last_hash = %s WHERE id = %s",
            [kept.pk, kept.entry_hash, kept.lane + 1],
        )
    )
    superuser_sql(statements)


def _document() -> dict:
    return json.loads(witness.witness_path().read_text())


def test_a_same_day_truncation_with_a_rewound_lane_end_is_reported():
    """The finding: rows written today, the last ones deleted and the lane's end rewound. The seal command (which
    seals yesterday) leaves a witness of today's tail; verify_audit_chain reports the cut."""
    lane3 = append_on(3, 4)
    append_on(5, 2)
    assert run_command("seal_audit_chain")[0] == 0
    _cut_tail(lane3, keep=2)
    assert list(chain.verify()) == []  # the chain alone shows nothing
    code, _, err = run_command("verify_audit_chain")
    assert code == 1
    assert f"#{lane3[-1].pk}" in err
    assert "切り詰め" in err


def test_the_beat_task_witnesses_every_lane_and_a_cut_is_reported():
    lane1 = append_on(1, 3)
    lane6 = append_on(6, 2)
    assert tasks.witness_audit_chain() is True
    assert _document()["witness"]["lanes"] == {
        "1": {"last_entry_id": lane1[-1].pk, "last_hash": lane1[-1].entry_hash, "entry_count": 3},
        "6": {"last_entry_id": lane6[-1].pk, "last_hash": lane6[-1].entry_hash, "entry_count": 2},
    }
    _cut_tail(lane6, keep=1)
    problems = [str(p) for p in witness.verify_witness()]
    assert len(problems) == 1
    assert problems[0].startswith(f"監査ログ #{lane6[-1].pk}: 末尾の証跡（2026-11-25T10:00")
    assert problems[0].endswith("が示す記録（系列 6）が削除されています（末尾の切り詰め）")


def test_a_witness_keeps_up_with_the_chain_and_verifies():
    first = append_on(2, 2)
    assert witness.write_witness().written
    later = append_on(2, 3)
    append_on(4, 1)
    result = witness.write_witness()
    assert result.written
    assert result.statement["lanes"]["2"] == {
        "last_entry_id": later[-1].pk,
        "last_hash": later[-1].entry_hash,
        "entry_count": len(first) + len(later),  # carried forward from the previous witness
    }
    assert result.statement["lanes"]["4"]["entry_count"] == 1
    assert run_command("verify_audit_chain")[0] == 0
    # Written atomically: one file, read-only, no temporary file left.
    assert [p.name for p in seals.seal_dir().iterdir()] == ["audit-witness.json"]
    assert stat.S_IMODE(witness.witness_path().stat().st_mode) == 0o444


def test_the_writer_refuses_to_move_past_a_cut_and_keeps_the_evidence(caplog):
    lane0 = append_on(0, 3)
    witness.write_witness()
    before = witness.witness_path().read_bytes()
    _cut_tail(lane0, keep=1)
    append_on(0, 1)  # new entries after the cut do not bring the witnessed one back
    with caplog.at_level(logging.ERROR, logger="audit.tasks"):
        assert tasks.witness_audit_chain() is False
    assert witness.witness_path().read_bytes() == before
    assert "切り詰め" in caplog.text
    assert run_command("verify_audit_chain")[0] == 1


def test_a_rewritten_witnessed_entry_with_a_recomputed_lane_is_reported():
    lane5 = append_on(5, 3)
    witness.write_witness()
    # Rewrite the first entry and rehash the lane after it, moving the end: the chain alone is consistent again.
    prev, statements = "0" * 64, []
    for entry in lane5:
        values = {name: getattr(entry, name) for name in chain.HASHED_FIELDS}
        values["occurred_at"] = entry.occurred_at.isoformat(timespec="microseconds")
        values["prev_hash"] = prev
        if entry is lane5[0]:
            values["subject_ids"] = [999]
        new_hash = chain.content_hash(values)
        statements.append(
            (
                "UPDATE audit_auditlogentry SET subject_ids = %s, prev_hash = %s, entry_hash = %s WHERE id = %s",
                [json.dumps(values["subject_ids"]), prev, new_hash, entry.pk],
            )
        )
        prev = new_hash
    statements.append(("UPDATE audit_auditchainhead SET last_hash = %s WHERE id = %s", [prev, 6]))
    superuser_sql(statements)
    assert list(chain.verify()) == []
    code, _, err = run_command("verify_audit_chain")
    assert code == 1
    assert "末尾の証跡" in err
    assert "書き換え" in err


def test_a_forged_witness_is_reported_and_never_overwritten():
    entries = append_on(1, 3)
    witness.write_witness()
    path = witness.witness_path()
    document = _document()
    document["witness"]["lanes"]["1"] = {
        "last_entry_id": entries[0].pk,
        "last_hash": entries[0].entry_hash,
        "entry_count": 1,
    }  # someone would like the cut to start earlier
    path.chmod(0o644)
    path.write_text(json.dumps(document))
    forged = path.read_bytes()
    code, _, err = run_command("verify_audit_chain")
    assert code == 1
    assert "署名" in err
    result = witness.write_witness()
    assert not result.written
    assert "署名" in str(result.problems[0])
    assert path.read_bytes() == forged


def test_a_wrong_count_in_an_authentic_witness_is_reported():
    entries = append_on(7, 2)
    statement = {
        "format": 1,
        "ward": "131041",
        "witnessed_at": "2026-11-25T10:00:00+09:00",
        "lanes": {"7": {"last_entry_id": entries[-1].pk, "last_hash": entries[-1].entry_hash, "entry_count": 3}},
    }
    seals.seal_dir().mkdir(parents=True, exist_ok=True)
    witness.witness_path().write_bytes(witness.document_bytes(statement))
    problems = [str(p) for p in witness.verify_witness()]
    assert len(problems) == 1
    assert "件数が一致しません" in problems[0]


def test_an_unreadable_or_missing_witness_is_reported_once_the_chain_is_sealed():
    append_on(1, 1)
    assert list(witness.verify_witness()) == []  # a fresh installation: nothing witnessed yet
    assert run_command("seal_audit_chain")[0] == 0
    path = witness.witness_path()
    path.chmod(0o644)
    path.write_text("{not json")
    assert "読めません" in str(next(witness.verify_witness()))
    path.unlink()
    assert seals.seal_files()
    assert "証跡ファイルがありません" in str(next(witness.verify_witness()))


def test_beat_witnesses_the_tail_at_least_every_minute():
    from config.celery import app

    schedules = [
        entry["schedule"]
        for entry in app.conf.beat_schedule.values()
        if entry["task"] == "audit.tasks.witness_audit_chain"
    ]
    assert schedules == [60.0]


def test_the_chain_check_page_reports_a_cut_tail(django_user_model):
    from django.test import Client
    from django.urls import reverse

    from common.roles import SUPERVISOR, assign_role

    lane2 = append_on(2, 3)
    witness.write_witness()
    _cut_tail(lane2, keep=1)
    boss = django_user_model.objects.create_user(username="kantoku", password="x-for-tests-only")
    assign_role(boss, SUPERVISOR)
    client = Client()
    client.force_login(boss)
    response = client.post(reverse("audit:verify_chain"))
    assert response.context["result"]["problem"].entry_id == lane2[-1].pk
    assert "切り詰め" in response.content.decode()
