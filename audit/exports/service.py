"""The two exports of the supervisor's screens: a filtered access/audit log, and records for a hand-over.

Two steps, so that the slow part holds no transaction (on SQLite a transaction blocks every other writer):

1. `prepare_audit_log` / `prepare_records` draw a fresh password and stream the CSV into an AES-256 ZIP in the
   export folder (`PreparedExport`);
2. `record_export` writes, in one transaction (the caller's, when it has one: the export views put the gate's
   access entry into the same one), the 管理簿 entry, its `operation` entry in the audit chain and, for a restricted
   person exported under a grant, a `use` permission event. A failure removes the file.

The password goes back to the caller to be shown once, and is kept nowhere."""

from dataclasses import dataclass, field

from django.db import transaction
from django.http import HttpRequest

from common.errors import ServiceError

from ..log import record_permission_event
from ..models import HandoverRecord
from ..selectors import LogFilter
from . import audit_log, records
from .archive import WrittenFile, write_encrypted_csv
from .ledger import record_handover
from .password import generate_password
from .storage import new_file_name, path_of


@dataclass
class PreparedExport:
    """A file written and waiting for its 管理簿 entry."""

    kind: str
    file_name: str
    written: WrittenFile
    password: str = field(repr=False)
    content: str = ""
    conditions: dict = field(default_factory=dict)
    tally: records.Tally | None = None

    def discard(self) -> None:
        self.written.path.unlink(missing_ok=True)


@dataclass
class ExportResult:
    handover: HandoverRecord
    password: str = field(repr=False)
    left_out: int = 0
    exported_ids: list[int] = field(default_factory=list)


def check_purpose(purpose: str) -> str:
    purpose = (purpose or "").strip()
    if not purpose:
        raise ServiceError({"purpose": ["書き出しの目的を入力してください。"]})
    return purpose


def _write(kind: str, header, rows) -> tuple[str, str, WrittenFile]:
    password = generate_password()
    file_name = new_file_name(kind)
    written = write_encrypted_csv(
        path_of(file_name),
        entry_name=file_name.removesuffix(".zip") + ".csv",
        header=header,
        rows=rows,
        password=password,
    )
    return password, file_name, written


def prepare_audit_log(flt: LogFilter) -> PreparedExport:
    """The entries `flt` selects (the log screen's filter), oldest first, written to an encrypted CSV."""
    kind = HandoverRecord.Kind.AUDIT_LOG_CSV
    password, file_name, written = _write(kind, audit_log.HEADER, audit_log.log_rows(flt))
    content, conditions = audit_log.describe(flt)
    return PreparedExport(kind, file_name, written, password, content, conditions)


def prepare_records(selection: records.RecordSelection, user) -> PreparedExport:
    """The selected residents' 住民票 items written to an encrypted CSV; restricted persons for whom `user` holds no
    grant are left out and counted."""
    kind = HandoverRecord.Kind.RECORDS_CSV
    tally = records.Tally()
    password, file_name, written = _write(kind, records.HEADER, records.record_rows(selection, user, tally))
    content, conditions = selection.describe()
    conditions = {**conditions, "left_out": tally.left_out}
    if tally.left_out:
        content = f"{content}、閲覧制限により{tally.left_out}人を除外"
    return PreparedExport(kind, file_name, written, password, content, conditions, tally)


def record_export(
    prepared: PreparedExport, *, user, purpose: str, recipient: str = "", request: HttpRequest | None = None
) -> ExportResult:
    """The 管理簿 entry (and the audit entries) for a prepared file, in one transaction; the file is removed if this
    fails."""
    tally = prepared.tally
    try:
        purpose = check_purpose(purpose)
        with transaction.atomic():
            record = record_handover(
                kind=prepared.kind,
                handler=user,
                purpose=purpose,
                recipient=(recipient or "").strip(),
                content=prepared.content,
                conditions=prepared.conditions,
                written=prepared.written,
                file_name=prepared.file_name,
                request=request,
                extra={"left_out": tally.left_out} if tally is not None else None,
            )
            if tally is not None and tally.granted_ids:
                record_permission_event(
                    "use",
                    actor=user,
                    subject_kind="resident",
                    subject_ids=tally.granted_ids,
                    details={"view": "exports.records_export", "handover_id": record.pk},
                    request=request,
                )
    except BaseException:
        prepared.discard()
        raise
    return ExportResult(
        handover=record,
        password=prepared.password,
        left_out=tally.left_out if tally is not None else 0,
        exported_ids=list(tally.exported_ids) if tally is not None else [],
    )
