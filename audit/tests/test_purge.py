"""purge_expired: the retention rules remove only what they name, each removal with its erasure record in the same
transaction; access logs are never deleted; a re-run finds nothing; the supervisor's 消去の記録 and 消去報告書."""

import datetime as dt
import hashlib
from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit import purge, restrictions
from audit.models import AuditLogEntry, BatchRun, ErasureRecord
from audit.tests.screens import append, at, user_with
from common.batch import BatchExit
from common.juminhyo_codes import juminhyo_code_for
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry, Koseki
from koseki_fuhyo.tests.factories import FuhyoEntryFactory, KosekiFactory
from registry.models import Resident
from registry.tests.factories import ResidentFactory, ward
from transfers.models import InboundNotice, OutboundNotice

pytestmark = pytest.mark.django_db
LONG_AGO = dt.date(1850, 3, 1)  # more than 150 years before any day the tests run on (2019 included)


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):
    """The exports' own purge runs too: never over the developer's var/exports."""
    settings.EXPORT_DIR = tmp_path / "exports"


def _run(*args: str) -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("purge_expired", *args, no_progress=True, stdout=out, stderr=err)
    except BatchExit as exc:
        return exc.code, out.getvalue() + err.getvalue()
    return 0, out.getvalue()


def _old_removed_resident(**extra) -> Resident:
    return ResidentFactory(
        birth_date=dt.date(1800, 1, 1),
        address_established_on=dt.date(1820, 1, 1),
        became_resident_on=dt.date(1820, 1, 1),
        status="removed",
        removed_on=LONG_AGO,
        removal_reason="death",
        **extra,
    )


def _sha(lines: list[str]) -> str:
    return hashlib.sha256("".join(f"{line}\n" for line in sorted(lines)).encode()).hexdigest()


def test_young_data_purges_nothing_and_keeps_the_access_log():
    current = ResidentFactory()
    recent = ResidentFactory(status="removed", removed_on=dt.date(2020, 1, 1), removal_reason="death")
    entry = append(username="clerk")
    code, out = _run()
    assert code == 0
    assert Resident.objects.filter(pk__in=[current.pk, recent.pk]).count() == 2
    assert AuditLogEntry.objects.filter(pk=entry.pk).exists()
    assert ErasureRecord.objects.count() == 0
    run = BatchRun.objects.get(command="purge_expired")
    assert run.counts["residents"] == 0
    assert "アクセスログ 消去しない" in run.summary


def test_a_removed_resident_past_150_years_goes_with_its_history_and_an_erasure_record():
    old = _old_removed_resident()
    kept = ResidentFactory(status="removed", removed_on=dt.date(2020, 1, 1), removal_reason="death")
    resident_type = ContentType.objects.get_for_model(Resident)
    assert LogEntry.objects.filter(content_type=resident_type, object_pk=str(old.pk)).exists()
    code, out = _run()
    assert code == 0
    assert not Resident.objects.filter(pk=old.pk).exists()
    assert Resident.objects.filter(pk=kept.pk).exists()
    # The change history held the same personal data: removed with it, and no deletion entry written either.
    assert not LogEntry.objects.filter(content_type=resident_type, object_pk=str(old.pk)).exists()
    erasure = ErasureRecord.objects.get()
    today = timezone.localdate()
    assert (erasure.target, erasure.count, erasure.cutoff) == ("住民票の除票", 1, today.replace(year=today.year - 150))
    assert erasure.digest == _sha([f"registry.resident:{old.pk}"])
    assert erasure.run == BatchRun.objects.get(command="purge_expired")
    assert erasure.digest in out
    assert old.surname not in out
    # Safe to re-run: nothing left to remove, no second record.
    assert _run()[0] == 0
    assert ErasureRecord.objects.count() == 1


def test_dry_run_counts_and_removes_nothing():
    old = _old_removed_resident()
    code, out = _run("--dry-run")
    assert code == 0
    assert Resident.objects.filter(pk=old.pk).exists()
    assert ErasureRecord.objects.count() == 0
    run = BatchRun.objects.get()
    assert (run.dry_run, run.counts["residents"]) == (True, 1)
    assert "【試行】消去予定: 住民票の除票 1 件" in out


def test_a_record_still_referenced_is_kept_and_reported():
    old = _old_removed_resident()
    gone = _old_removed_resident()
    restrictions.restrict(
        actor=user_with("purge-supervisor"), kind="dv_support", reason="支援措置", starts_on=LONG_AGO, resident=old
    )
    code, out = _run()
    assert code == 1
    assert Resident.objects.filter(pk=old.pk).exists()
    assert not Resident.objects.filter(pk=gone.pk).exists()
    assert f"ID {old.pk}" in out
    erasure = ErasureRecord.objects.get()
    assert erasure.count == 1
    assert erasure.details["kept_referenced"] == 1
    assert BatchRun.objects.get().counts["residents_kept_referenced"] == 1


def test_no_erasure_record_no_deletion(monkeypatch):
    """The record and the removal commit together: if the record cannot be written, nothing is removed."""
    old = _old_removed_resident()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ErasureRecord.objects, "create", broken)
    with pytest.raises(RuntimeError):
        _run()
    assert Resident.objects.filter(pk=old.pk).exists()


def test_a_closed_koseki_past_150_years_takes_its_fuhyo_along():
    closed = KosekiFactory(status="closed", closed_on=LONG_AGO, closed_reason="死亡")
    entry = FuhyoEntryFactory(koseki=closed, status="removed", removed_on=LONG_AGO)
    address = FuhyoAddress.objects.create(
        entry=entry,
        municipality=ward(),
        address="四谷1番",
        established_on=dt.date(1850, 1, 1),
        recorded_on=dt.date(1850, 1, 1),
        reason="転入",
        is_current=False,
    )
    current = FuhyoEntryFactory()
    assert _run()[0] == 0
    assert not Koseki.objects.filter(pk=closed.pk).exists()
    assert not FuhyoEntry.objects.filter(pk=entry.pk).exists()
    assert not FuhyoAddress.objects.filter(pk=address.pk).exists()
    assert FuhyoEntry.objects.filter(pk=current.pk).exists()
    erasure = ErasureRecord.objects.get()
    assert erasure.count == 1
    assert erasure.digest == _sha(
        [
            f"koseki_fuhyo.koseki:{closed.pk}",
            f"koseki_fuhyo.fuhyoentry:{entry.pk}",
            f"koseki_fuhyo.fuhyoaddress:{address.pk}",
        ]
    )


def _aged(model, pk: int, **times) -> None:
    model.objects.filter(pk=pk).update(**times)


def test_old_payloads_of_finished_notices_are_blanked_with_the_digest_kept(settings):
    import uuid

    settings.RETENTION_NOTICE_PAYLOAD_DAYS = 30
    old_time = timezone.now() - dt.timedelta(days=31)
    payload = {"person": {"juminhyo_code": juminhyo_code_for(1), "surname": "山田"}}
    acked = OutboundNotice.objects.create(kind="fuhyo_items", receiver="131130", payload=payload, state="acknowledged")
    _aged(OutboundNotice, acked.pk, acknowledged_at=old_time)
    fresh = OutboundNotice.objects.create(
        kind="fuhyo_items", receiver="131130", payload=payload, state="acknowledged", acknowledged_at=timezone.now()
    )
    waiting = OutboundNotice.objects.create(kind="fuhyo_items", receiver="131130", payload=payload, state="failed")
    done = InboundNotice.objects.create(
        message_id=uuid.uuid4(),
        sender="131130",
        kind="fuhyo_items",
        schema_version=1,
        payload=payload,
        payload_digest="d" * 64,
        sent_at=old_time,
        via="http",
        state="done",
    )
    _aged(InboundNotice, done.pk, received_at=old_time)
    assert _run()[0] == 0
    acked.refresh_from_db()
    done.refresh_from_db()
    assert acked.payload == {}
    assert len(acked.payload_digest) == 64  # computed before blanking when it was missing
    assert (done.payload, done.payload_digest) == ({}, "d" * 64)
    assert OutboundNotice.objects.get(pk=fresh.pk).payload == payload
    assert OutboundNotice.objects.get(pk=waiting.pk).payload == payload
    erasure = ErasureRecord.objects.get()
    assert erasure.count == 2
    assert erasure.details == {"outbound": 1, "inbound": 1, "kept_referenced": 0}
    assert erasure.digest == _sha(
        [f"transfers.outboundnotice:{acked.pk}:{acked.payload_digest}", f"transfers.inboundnotice:{done.pk}:{'d' * 64}"]
    )


def test_an_access_log_period_is_reported_but_nothing_is_deleted(settings):
    settings.RETENTION_AUDIT_LOG_YEARS = 1
    with at(timezone.now() - dt.timedelta(days=800)):
        old = append(username="clerk")
    recent = append(username="clerk")
    code, _ = _run()
    assert code == 0
    run = BatchRun.objects.get()
    assert run.counts["audit_log_past_period"] == 1
    assert AuditLogEntry.objects.filter(pk__in=[old.pk, recent.pk]).count() == 2
    assert "消去しない" in run.summary


def test_old_export_files_are_removed_by_the_exports_purger(settings):
    import os

    folder = settings.EXPORT_DIR
    folder.mkdir(parents=True)
    old, new = folder / "old.zip", folder / "new.zip"
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    now = timezone.now().timestamp()
    os.utime(new, (now, now))  # the file system's clock is not the test's
    two_days_ago = now - 48 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    _run("--dry-run")
    assert old.exists()
    _run()
    assert (old.exists(), new.exists()) == (False, True)
    assert BatchRun.objects.filter(dry_run=False).get().counts["export_files"] == 1


def test_old_export_files_are_handed_to_the_exports_purger(monkeypatch):
    calls = []
    monkeypatch.setattr(purge, "export_purger", lambda: lambda: calls.append(1) or 3)
    _run()
    assert calls == [1]
    assert BatchRun.objects.get().counts["export_files"] == 3
    _run("--dry-run")
    assert calls == [1]  # a dry run removes no file


def test_beat_runs_the_purge():
    from config.celery import app

    assert ("purge_expired",) in [tuple(e.get("args", ())) for e in app.conf.beat_schedule.values()]


# --- The supervisor's pages --------------------------------------------------------------------------------------


def _client(*permissions: str, username: str = "purge-reader") -> Client:
    client = Client()
    client.force_login(user_with(username, *permissions))
    return client


def test_erasure_records_are_listed_and_printed_as_a_report():
    old = _old_removed_resident()
    _run()
    run = BatchRun.objects.get()
    erasure = ErasureRecord.objects.get()
    client = _client("audit.view_erasurerecord")
    page = client.get(reverse("audit:erasures"))
    assert page.status_code == 200
    assert erasure.digest in page.content.decode()
    report = client.get(reverse("audit:erasure_report", args=[run.pk]))
    text = report.content.decode()
    assert report.status_code == 200
    assert "消去報告書" in text
    assert erasure.digest in text
    assert "住民票の除票" in text
    assert "css/erasure-print.css" in text
    assert "style=" not in text  # no inline styles (CSP without 'unsafe-inline')
    assert "<script" not in text
    assert old.surname not in text


def test_the_report_is_for_purge_runs_and_needs_the_permission():
    BatchRun.objects.create(command="verify_audit_chain", source="command")
    other = BatchRun.objects.get()
    assert _client("audit.view_erasurerecord").get(reverse("audit:erasure_report", args=[other.pk])).status_code == 404
    assert _client("audit.view_batchrun", username="operator-ish").get(reverse("audit:erasures")).status_code == 403


def test_the_print_stylesheet_is_a4():
    from django.conf import settings

    css = (settings.BASE_DIR / "static" / "css" / "erasure-print.css").read_text()
    assert "size: A4" in css
    assert "@media print" in css


@pytest.mark.parametrize("years", [0, 149])
def test_a_retention_shorter_than_the_law_removes_nothing(settings, years):
    """The statutory 150 years is a floor: a smaller setting is refused before any rule runs."""
    settings.RETENTION_REMOVED_RECORD_YEARS = years
    kept = ResidentFactory(status="removed", removed_on=dt.date(2020, 1, 1), removal_reason="death")
    with pytest.raises(ImproperlyConfigured, match="150 年以上"):
        call_command("purge_expired", stdout=StringIO())
    assert Resident.objects.filter(pk=kept.pk).exists()
    assert ErasureRecord.objects.count() == 0


@pytest.mark.parametrize(("value", "refused"), [("0", True), ("149", True), ("150", False), ("200", False)])
def test_the_settings_refuse_a_retention_shorter_than_150_years(value, refused):
    import os
    import subprocess
    import sys

    from django.conf import settings as django_settings

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RETENTION_", "DJANGO_SETTINGS_MODULE"))}
    env.update(RETENTION_REMOVED_RECORD_YEARS=value, DJANGO_ALLOW_DEV_SECRET="true")
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", "import config.settings"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode != 0) is refused
    assert ("RETENTION_REMOVED_RECORD_YEARS must be at least 150" in result.stderr) is refused
