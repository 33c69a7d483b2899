"""The nightly reconciliation of the 住民票 against the 附票, for people whose 本籍 and 住所 are both in the ward:
the findings of the consistency check (registry/consistency.py, rules 1 and 2) become tasks for clerks
(`RegisterDiscrepancy`), one open task per 住民票コード.

Re-running does not duplicate: an open task whose differences changed is brought up to date; one whose differences
disappeared (a clerk corrected a register through the services) is closed automatically with a note. The tasks
hold the messages of the check only (no personal data); the page puts the two registers' values side by side.
Findings without a 住民票コード (a 附票 row missing its code) cannot be keyed to a person: they are counted and
stay visible to `check_register_consistency`. So are findings whose 住民票コード fails its check digit (a row written
around the services): a task is never keyed by a code that is not one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common.validators import validate_juminhyo_code
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry

from .addresses import with_katagaki
from .consistency import Inconsistency, iter_inconsistencies
from .models import RegisterDiscrepancy, Resident

REGISTER_RULES = ("住民票→附票", "附票→住民票")  # the 世帯 rules are not a difference between the registers
AUTO_CLOSE_NOTE = "再照合で相違がなくなったため自動で処理済としました（{day}）"
LOOKUP_CHUNK = 2_000


@dataclass
class PersonFinding:
    """All differences the check found for one person."""

    juminhyo_code: str
    resident_id: int | None
    fuhyo_entry_id: int | None
    differences: list[str] = field(default_factory=list)


def _grouped(findings: Iterable[Inconsistency]) -> Iterator[list[Inconsistency]]:
    """Consecutive findings about the same record (the check yields each record's findings together)."""
    group: list[Inconsistency] = []
    for finding in findings:
        if finding.rule not in REGISTER_RULES:
            continue
        if group and (finding.rule, finding.resident_id, finding.fuhyo_entry_id) != (
            group[0].rule,
            group[0].resident_id,
            group[0].fuhyo_entry_id,
        ):
            yield group
            group = []
        group.append(finding)
    if group:
        yield group


def _with_codes(groups: list[list[Inconsistency]]) -> list[PersonFinding]:
    resident_ids = {g[0].resident_id for g in groups if g[0].resident_id}
    entry_ids = {g[0].fuhyo_entry_id for g in groups if g[0].fuhyo_entry_id and not g[0].resident_id}
    resident_codes = dict(Resident.objects.filter(pk__in=resident_ids).values_list("pk", "juminhyo_code"))
    entry_codes = dict(FuhyoEntry.objects.filter(pk__in=entry_ids).values_list("pk", "juminhyo_code"))
    found = []
    for group in groups:
        first = group[0]
        if first.resident_id:
            code = resident_codes.get(first.resident_id, "")
        else:
            code = entry_codes.get(first.fuhyo_entry_id, "")
        found.append(PersonFinding(code, first.resident_id, first.fuhyo_entry_id, [f.message for f in group]))
    return found


def person_findings() -> Iterator[PersonFinding]:
    """The check's register findings, one per person, with the 住民票コード (looked up in chunks)."""
    batch: list[list[Inconsistency]] = []
    for group in _grouped(iter_inconsistencies()):
        batch.append(group)
        if len(batch) == LOOKUP_CHUNK:
            yield from _with_codes(batch)
            batch = []
    yield from _with_codes(batch)


@dataclass
class ReconcileResult:
    counts: Counter[str]

    @property
    def open_after(self) -> int:
        return self.counts["opened"] + self.counts["updated"] + self.counts["unchanged"]


def reconcile(
    findings: Iterable[PersonFinding] | None = None, *, dry_run: bool = False, today: dt.date | None = None
) -> ReconcileResult:
    """Bring the open tasks in line with the findings: open, update, keep or close. One transaction."""
    today = today or timezone.localdate()
    counts: Counter[str] = Counter()
    current: dict[str, PersonFinding] = {}
    for finding in person_findings() if findings is None else findings:
        if not finding.juminhyo_code:
            counts["without_code"] += 1
            continue
        try:
            validate_juminhyo_code(finding.juminhyo_code)  # the validator of RegisterDiscrepancy.juminhyo_code
        except ValidationError:
            counts["invalid_code"] += 1
            continue
        if finding.juminhyo_code in current:  # both rules about one person: one task
            current[finding.juminhyo_code].differences += finding.differences
            continue
        current[finding.juminhyo_code] = finding
    with transaction.atomic():
        open_tasks = {
            task.juminhyo_code: task
            for task in RegisterDiscrepancy.objects.select_for_update().filter(state=RegisterDiscrepancy.State.OPEN)
        }
        for code, finding in current.items():
            task = open_tasks.get(code)
            if task is None:
                counts["opened"] += 1
                if not dry_run:
                    RegisterDiscrepancy.objects.create(
                        juminhyo_code=code,
                        resident_id=finding.resident_id,
                        fuhyo_entry_id=finding.fuhyo_entry_id,
                        differences=finding.differences,
                        found_on=today,
                    )
            elif (task.differences, task.resident_id, task.fuhyo_entry_id) != (
                finding.differences,
                finding.resident_id,
                finding.fuhyo_entry_id,
            ):
                counts["updated"] += 1
                if not dry_run:
                    task.differences = finding.differences
                    task.resident_id = finding.resident_id
                    task.fuhyo_entry_id = finding.fuhyo_entry_id
                    task.save(update_fields=["differences", "resident", "fuhyo_entry"])
            else:
                counts["unchanged"] += 1
        for code, task in open_tasks.items():
            if code in current:
                continue
            counts["closed"] += 1
            if not dry_run:
                task.state = RegisterDiscrepancy.State.RESOLVED
                task.resolved_at = timezone.now()
                task.resolution_note = AUTO_CLOSE_NOTE.format(day=today.isoformat())
                task.save(update_fields=["state", "resolved_at", "resolution_note"])
    return ReconcileResult(counts)


class AlreadyResolved(Exception):
    """The task was resolved meanwhile (by another clerk, or by the nightly run)."""


def resolve(task: RegisterDiscrepancy, *, actor, note: str) -> RegisterDiscrepancy:
    """A clerk closes a task, after correcting a register through the services or recording why nothing is to be
    done. The row is locked, so two clerks cannot both resolve it."""
    with transaction.atomic():
        locked = RegisterDiscrepancy.objects.select_for_update().get(pk=task.pk)
        if locked.state != RegisterDiscrepancy.State.OPEN:
            raise AlreadyResolved
        locked.state = RegisterDiscrepancy.State.RESOLVED
        locked.resolved_by = actor
        locked.resolved_at = timezone.now()
        locked.resolution_note = note.strip()[:500]
        locked.save(update_fields=["state", "resolved_by", "resolved_at", "resolution_note"])
    return locked


# --- Side by side ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparedItem:
    label: str
    resident_value: str
    fuhyo_value: str

    @property
    def differs(self) -> bool:
        return self.resident_value != self.fuhyo_value


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def side_by_side(resident: Resident | None, entry: FuhyoEntry | None) -> list[ComparedItem]:
    """The items the two registers share, 住民票 on the left and 附票 on the right (empty where a record is
    missing). For the page only: which items count as a difference is the consistency check's business."""
    address = None
    if entry is not None:
        address = FuhyoAddress.objects.filter(entry=entry, is_current=True).select_related("municipality").first()
    koseki = entry.koseki if entry is not None else None

    def r(attr: str) -> str:
        return _text(getattr(resident, attr)) if resident is not None else ""

    def f(attr: str) -> str:
        return _text(getattr(entry, attr)) if entry is not None else ""

    items = [
        ComparedItem("氏", r("surname"), f("surname")),
        ComparedItem("名", r("given_name"), f("given_name")),
        ComparedItem("氏（カナ）", r("surname_kana"), f("surname_kana")),
        ComparedItem("名（カナ）", r("given_name_kana"), f("given_name_kana")),
        ComparedItem("生年月日", r("birth_date"), f("birth_date")),
        ComparedItem(
            "性別",
            resident.get_sex_display() if resident is not None else "",
            entry.get_sex_display() if entry is not None else "",
        ),
        ComparedItem("本籍", r("honseki_address"), koseki.honseki_address if koseki else ""),
        ComparedItem("筆頭者", r("hittousha_name"), koseki.hittousha_name if koseki else ""),
        ComparedItem(
            "住所",
            with_katagaki(resident.address, resident.katagaki) if resident is not None else "",
            address.address if address is not None else "",
        ),
        ComparedItem(
            "住所を定めた年月日",
            r("address_established_on"),
            _text(address.established_on) if address is not None else "",
        ),
    ]
    return items
