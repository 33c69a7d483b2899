"""The retention rules (docs/retention.md), applied by `purge_expired`. The rows themselves are deleted by the
services of the registers that own them (registry.services.retention, koseki_fuhyo.services.retention,
transfers.retention); this module decides the cutoffs, calls them and writes the erasure records.

Each rule removes only what it names, and writes an `ErasureRecord` (what, which rule, cutoff, how many, SHA-256
over the ids and digests removed) in the same transaction as the removal: a purge without its record cannot commit,
and a record without its purge cannot exist. A dry run counts and writes nothing.

- 除票 (住民票 removed more than RETENTION_REMOVED_RECORD_YEARS ago, 150 by law) with their 異動履歴, their object
  permissions and their change history (django-auditlog rows, which hold the same personal data);
- 除附票 (the 附票 of a 戸籍 closed more than that long ago): the 附票 rows and their addresses, and the 戸籍 frame;
- notification payloads (the JSON of outbound notices acknowledged, and inbound notices applied or done, more than
  RETENTION_NOTICE_PAYLOAD_DAYS ago) are blanked to {}; the stored digest stays, so that the audit chain's
  transmission entries still identify what was sent;
- access logs: never deleted here (the hash chain is kept whole; see docs/retention.md). With
  RETENTION_AUDIT_LOG_YEARS set, the run only reports how many entries such a rule would reach.

A record that something else still points to (a change event, a notice, a 閲覧制限, a 届出) is kept and counted as
`kept_referenced`, with its id in the run's output, for a supervisor to look at: retention never breaks the links
that make the other records understandable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from auditlog.context import disable_auditlog
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from koseki_fuhyo.services import retention as fuhyo_retention
from registry.services import retention as resident_retention
from transfers import retention as notice_retention

from .models import AuditLogEntry, BatchRun, ErasureRecord

CHUNK = 1_000


def removed_record_years() -> int:
    """How long 除票 and 除附票 are kept: the setting, never less than the statutory 150 years (settings refuse a
    smaller value at start-up; this refuses one set later, so that no purge ever runs on it)."""
    years = settings.RETENTION_REMOVED_RECORD_YEARS
    if years < settings.STATUTORY_REMOVED_RECORD_YEARS:
        raise ImproperlyConfigured(
            f"RETENTION_REMOVED_RECORD_YEARS は {settings.STATUTORY_REMOVED_RECORD_YEARS} 年以上にしてください"
            f"（住民基本台帳法施行令34条）。現在の値: {years}"
        )
    return years


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def digest_of(lines: Iterable[str]) -> str:
    """SHA-256 over the sorted lines ("label:id" or "label:id:digest"), one per line: the same removal always has
    the same digest, and a list kept elsewhere can be checked against it."""
    sha = hashlib.sha256()
    for line in sorted(lines):
        sha.update(line.encode("utf-8") + b"\n")
    return sha.hexdigest()


@dataclass
class RuleOutcome:
    target: str
    rule: str
    cutoff: dt.date
    count: int = 0
    digest: str = ""
    kept_referenced: list[int] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    erasure: ErasureRecord | None = None


def _record(run: BatchRun, outcome: RuleOutcome, lines: list[str]) -> None:
    outcome.digest = digest_of(lines)
    outcome.erasure = ErasureRecord.objects.create(
        run=run,
        target=outcome.target,
        rule=outcome.rule,
        cutoff=outcome.cutoff,
        count=outcome.count,
        digest=outcome.digest,
        details={**outcome.details, "kept_referenced": len(outcome.kept_referenced)},
    )


def _ids_in_chunks(queryset: models.QuerySet) -> Iterable[list[int]]:
    last = 0
    while True:
        ids = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return
        yield ids
        last = ids[-1]


def _purge_each(
    run: BatchRun,
    outcome: RuleOutcome,
    candidates: models.QuerySet,
    remove_one: Callable[[int], list[str]],
    *,
    dry_run: bool,
) -> RuleOutcome:
    """Remove candidate by candidate (a savepoint each: one still referenced is kept, the others go), then write
    the erasure record — all in one transaction."""
    if dry_run:
        outcome.count = candidates.count()
        return outcome
    lines: list[str] = []
    with transaction.atomic(), disable_auditlog():
        for ids in _ids_in_chunks(candidates):
            for pk in ids:
                try:
                    with transaction.atomic():
                        lines += remove_one(pk)
                except ProtectedError:
                    outcome.kept_referenced.append(pk)
                    continue
                outcome.count += 1
        if outcome.count:
            _record(run, outcome, lines)
    return outcome


# --- 除票 ----------------------------------------------------------------------------------------------------------


def purge_removed_residents(run: BatchRun, *, today: dt.date, dry_run: bool = False) -> RuleOutcome:
    years = removed_record_years()
    cutoff = years_before(today, years)
    outcome = RuleOutcome("住民票の除票", f"消除から{years}年（住民基本台帳法施行令34条）", cutoff)
    candidates = resident_retention.removed_before(cutoff)
    return _purge_each(run, outcome, candidates, resident_retention.erase_removed_resident, dry_run=dry_run)


# --- 除附票 --------------------------------------------------------------------------------------------------------


def purge_closed_fuhyo(run: BatchRun, *, today: dt.date, dry_run: bool = False) -> RuleOutcome:
    years = removed_record_years()
    cutoff = years_before(today, years)
    outcome = RuleOutcome("戸籍の附票の除票（除附票）", f"除籍から{years}年（住民基本台帳法施行令34条）", cutoff)
    candidates = fuhyo_retention.closed_before(cutoff)
    return _purge_each(run, outcome, candidates, fuhyo_retention.erase_closed_koseki, dry_run=dry_run)


# --- Notification payloads ---------------------------------------------------------------------------------------


def purge_notice_payloads(run: BatchRun, *, now: dt.datetime, dry_run: bool = False) -> RuleOutcome:
    days = settings.RETENTION_NOTICE_PAYLOAD_DAYS
    before = now - dt.timedelta(days=days)
    outcome = RuleOutcome(
        "通知の内容（受領確認済・処理済の通知）", f"受領確認・受信から{days}日（内容のハッシュは保存）", before.date()
    )
    settled = notice_retention.settled_with_payload(before)
    if dry_run:
        outcome.details = {label: queryset.count() for label, queryset in settled.items()}
        outcome.count = sum(outcome.details.values())
        return outcome
    lines: list[str] = []
    per_kind = dict.fromkeys(settled, 0)
    with transaction.atomic():
        for label, queryset in settled.items():
            for ids in _ids_in_chunks(queryset):
                blanked = notice_retention.blank_payloads(queryset.model, ids)
                lines += blanked
                per_kind[label] += len(blanked)
        outcome.count = len(lines)
        outcome.details = per_kind
        if outcome.count:
            _record(run, outcome, lines)
    return outcome


# --- Access logs (reported, never deleted) -----------------------------------------------------------------------


def audit_log_reach(*, today: dt.date) -> tuple[dt.date, int] | None:
    """With RETENTION_AUDIT_LOG_YEARS set: the cutoff and how many entries lie before it. Nothing is deleted."""
    years = settings.RETENTION_AUDIT_LOG_YEARS
    if not years:
        return None
    cutoff = years_before(today, years)
    start = timezone.make_aware(dt.datetime.combine(cutoff, dt.time.min))
    return cutoff, AuditLogEntry.objects.filter(occurred_at__lt=start).count()


# --- Export files ------------------------------------------------------------------------------------------------


def export_purger() -> Callable[[], int] | None:
    """`audit.exports.purge_old_exports` when the exports module provides it."""
    for name in ("audit.exports", "audit.exports.storage"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        purger = getattr(module, "purge_old_exports", None)
        if callable(purger):
            return purger
    return None


def report_lines(outcome: RuleOutcome) -> list[str]:
    """For the command's output: counts and ids only."""
    lines = [f"{outcome.target}\t{outcome.cutoff.isoformat()} より前\t{outcome.count} 件"]
    if outcome.kept_referenced:
        shown = ", ".join(str(i) for i in outcome.kept_referenced[:20])
        more = " ほか" if len(outcome.kept_referenced) > 20 else ""
        lines.append(f"  参照が残るため保存: {len(outcome.kept_referenced)} 件（ID {shown}{more}）")
    if outcome.digest:
        lines.append(f"  SHA-256 {outcome.digest}")
    return lines
