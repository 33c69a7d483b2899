"""Receiving notices: one envelope in, one answer out (HTTP body or spool file), per the wire protocol.

`receive` opens and checks the envelope (transfers.envelope), refuses acknowledgements and kinds this ward never
receives, refuses a message id already stored (409 with a signed `duplicate` ack), checks the payload against its
schema (transfers.payloads), then stores the InboundNotice and applies it (transfers.handlers) in ONE transaction,
so the notice, the registers' changes and the follow-up notices those changes raise commit together; the unique
message id makes a second delivery of the same message a duplicate, even when both arrive at the same moment.

Before any handler runs, transfers.authority decides whether the sender may say this about this person. When it
may not, nothing is applied: the notice is stored waiting for a clerk (要確認) with the Japanese reason, the audit
chain gets one `authority_refused` entry (DENIED, the rule's code), and the sender still gets its `accepted` ack —
which says nothing about our records.

Every refusal answers {"error": code, "message": Japanese} with the contract's status code, writes exactly one
audit entry (`rejected`, DENIED, the code) and stores nothing. The audit entries carry the message id, the kind,
the partner and the SHA-256 of the canonical payload JSON, never personal data.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.log import record_transmission
from audit.models import AuditLogEntry
from common.context import audit_context, current
from common.errors import ServiceError, clean_fields_or_raise

from . import authority, handlers
from .acks import ACCEPTED, DUPLICATE, make_ack
from .envelope import ACK_KIND, EnvelopeRejected, Header, Opened, open_envelope, payload_digest, read_header
from .keys import partner_keys, ward_identity
from .models import InboundNotice, Partner
from .payloads import PayloadError, subject_code, validate

logger = logging.getLogger(__name__)

JSON = "application/json"
STATUS = {
    EnvelopeRejected.MALFORMED: 400,
    EnvelopeRejected.BAD_PAYLOAD: 400,
    EnvelopeRejected.STALE: 400,
    EnvelopeRejected.UNKNOWN_SENDER: 403,
    EnvelopeRejected.BAD_SIGNATURE: 403,
    EnvelopeRejected.WRONG_RECEIVER: 403,
    EnvelopeRejected.UNDECRYPTABLE: 403,
    EnvelopeRejected.TOO_LARGE: 413,
    EnvelopeRejected.REPLAY: 409,
}
INTERNAL = "internal_error"
RECEIVABLE = frozenset(handlers.HANDLERS)  # every kind but jlis_fuhyo: a ward is never J-LIS


@dataclass(frozen=True)
class Reply:
    """The answer to one envelope: HTTP status, body (a signed ack, or the refusal as JSON) and its type."""

    status: int
    body: bytes
    content_type: str = JSON

    @property
    def error(self) -> str | None:
        """The refusal code, or None for an ack."""
        if self.status in (200, 409):
            return None
        try:
            return json.loads(self.body).get("error")
        except ValueError:
            return None


def _error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": code, "message": message}, ensure_ascii=False).encode("utf-8")


def _audit(
    action: str, header: Header | None, *, digest: str = "", outcome=AuditLogEntry.Outcome.DONE, request=None, **details
):
    return record_transmission(
        action,
        message_id=header.message_id if header else "",
        kind=header.kind if header else "",
        partner=header.sender if header else "",
        digest=digest,
        outcome=outcome,
        details=details or None,
        request=request,
    )


def _refuse(exc: EnvelopeRejected, request: HttpRequest | None) -> Reply:
    _audit("rejected", exc.header, outcome=AuditLogEntry.Outcome.DENIED, request=request, code=exc.code)
    return Reply(STATUS.get(exc.code, 400), _error_body(exc.code, exc.message))


def _duplicate(header: Header, request: HttpRequest | None, digest: str = "") -> Reply:
    """A message id already stored: nothing changes; the signed `duplicate` ack lets the genuine sender complete."""
    _audit(
        "rejected",
        header,
        digest=digest,
        outcome=AuditLogEntry.Outcome.DENIED,
        request=request,
        code=EnvelopeRejected.REPLAY,
    )
    return Reply(409, make_ack(header, DUPLICATE, ward_identity(), partner_keys(header.sender)))


def _already_stored(message_id: str) -> bool:
    return InboundNotice.objects.filter(message_id=message_id).exists()


def _open(raw: bytes, expected_sender: str | None) -> Opened:
    window = dt.timedelta(seconds=settings.TRANSFERS_CLOCK_WINDOW)
    opened = open_envelope(raw, ward_identity(), partner_keys, window=window)
    header = opened.header
    if expected_sender is not None and header.sender != expected_sender:
        raise EnvelopeRejected(
            EnvelopeRejected.UNKNOWN_SENDER, f"{header.sender}（この経路の相手ではありません）", header
        )
    if header.kind == ACK_KIND:
        raise EnvelopeRejected(EnvelopeRejected.BAD_PAYLOAD, "応答（ack）はこの受信口では受け付けません", header)
    if header.kind not in RECEIVABLE:
        raise EnvelopeRejected(
            EnvelopeRejected.BAD_PAYLOAD, f"この区が受け取らない種類の通知です（{header.kind}）", header
        )
    return opened


def _check_stored_codes(header: Header, payload: dict[str, Any]) -> None:
    """The inbox row's own validators on the codes it keeps (sender, 住民票コード): every schema checks the check
    digits already, so this only holds should a schema version not; refused like any other bad payload."""
    row = InboundNotice(sender=header.sender, juminhyo_code=subject_code(payload))
    try:
        clean_fields_or_raise(row, ["sender", "juminhyo_code"])
    except ServiceError as exc:
        raise PayloadError(exc.messages) from None


def _store_and_apply(opened: Opened, via: str, digest: str, request: HttpRequest | None) -> InboundNotice:
    header, payload = opened.header, opened.body
    with transaction.atomic():
        notice = InboundNotice.objects.create(
            message_id=header.message_id,
            sender=header.sender,
            kind=header.kind,
            schema_version=header.schema_version,
            payload=payload,
            payload_digest=digest,
            sent_at=header.created,
            via=via,
            juminhyo_code=subject_code(payload),
            state=InboundNotice.State.WAITING,
        )
        # The authority rule comes before any handler: a sender not entitled to this notice about this person
        # changes nothing; the clerk sees what the handler would have compared, and the reason.
        verdict = authority.check(notice)
        if verdict.allowed:
            outcome = handlers.apply(notice)
        else:
            outcome = handlers.review(notice)
            outcome.problem = "　".join(p for p in (verdict.reason, outcome.problem) if p)
            if outcome.resident is None and outcome.fuhyo_entry is None and verdict.resident is not None:
                # The record the refusal rests on: its page (and its visibility rule) goes with the notice.
                outcome.resident = verdict.resident
                outcome.differences = handlers.resident_differences(notice, verdict.resident)
            notice.authority_refusal = verdict.reason[: handlers.PROBLEM_MAX]
        notice.state = outcome.state
        notice.problem = outcome.problem[: handlers.PROBLEM_MAX]
        notice.differences = outcome.differences
        notice.resident = outcome.resident
        notice.fuhyo_entry = outcome.fuhyo_entry
        notice.change_group = outcome.change_group
        if outcome.state == handlers.APPLIED:
            notice.resolution = InboundNotice.Resolution.AUTO
            notice.resolved_at = timezone.now()
        notice.save()
        # The audit entries come last: appending to the chain locks its head row until the commit, so written
        # first they would serialise every receiving worker for the whole apply (bench/README.md).
        _audit("received", header, digest=digest, request=request, via=via)
        if not verdict.allowed:
            _audit(
                "authority_refused",
                header,
                digest=digest,
                outcome=AuditLogEntry.Outcome.DENIED,
                request=request,
                notice_id=notice.pk,
                code=verdict.code,
            )
        _audit(
            outcome.state,  # "applied" or "waiting"
            header,
            digest=digest,
            request=request,
            notice_id=notice.pk,
            differences=len(outcome.differences),
            authority=verdict.code,
        )
    return notice


def receive(raw: bytes, via: str, request: HttpRequest | None = None, *, expected_sender: str | None = None) -> Reply:
    """Check, store and apply one envelope; the answer for its sender. `via` is "http" or "spool";
    `expected_sender` (spool) refuses an envelope sealed by another partner than the directory's."""
    try:
        opened = _open(raw, expected_sender)
    except EnvelopeRejected as exc:
        return _refuse(exc, request)
    header = opened.header
    digest = payload_digest(opened.body)
    if _already_stored(header.message_id):
        return _duplicate(header, request, digest)
    try:
        validate(header.kind, header.schema_version, opened.body)
        _check_stored_codes(header, opened.body)
    except PayloadError as exc:
        return _refuse(EnvelopeRejected(EnvelopeRejected.BAD_PAYLOAD, " ".join(exc.messages)[:1000], header), request)
    ctx = current()
    with audit_context(None, f"inbound:{header.sender}", request_id=ctx.request_id if ctx else None):
        try:
            _store_and_apply(opened, via, digest, request)
        except IntegrityError:
            if not _already_stored(header.message_id):
                raise
            return _duplicate(header, request, digest)  # a concurrent delivery of the same message won
        except Exception as exc:  # noqa: BLE001 - nothing stored; the sender retries; no personal data in the log
            logger.error("inbound %s (%s) failed: %s", header.message_id, header.kind, type(exc).__name__)
            _audit(
                "rejected", header, digest=digest, outcome=AuditLogEntry.Outcome.ERROR, request=request, code=INTERNAL
            )
            message = "通知を処理できませんでした。時間をおいて再送してください。"
            return Reply(500, _error_body(INTERNAL, message))
    return Reply(200, make_ack(header, ACCEPTED, ward_identity(), partner_keys(header.sender)))


# --- Spool: files in, files out (the CS-style directory of one partner) ------------------------------------------


SPOOL_COUNTS = ("accepted", "duplicate", "rejected", "failed")


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _move(path: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(path, folder / path.name)
    except FileNotFoundError:
        pass  # another worker moved it first


def process_spool_inbox(partner: Partner) -> dict[str, int]:
    """Receive every `<spool_dir>/in/*.env` of `partner` as if it had been POSTed: the ack goes to
    `<spool_dir>/out/<message_id>.ack`, the file to `in/done/` (accepted or duplicate) or `in/rejected/` (with the
    refusal beside it as `<name>.error.json`). A file that failed inside this system stays for the next poll.
    Returns the counts: accepted, duplicate, rejected, failed."""
    counts: Counter[str] = Counter()
    base = Path(partner.spool_dir)
    inbox = base / "in"
    if not inbox.is_dir():
        return dict.fromkeys(SPOOL_COUNTS, 0)
    for path in sorted(inbox.glob("*.env")):
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            continue  # taken by another worker
        reply = receive(raw, via="spool", expected_sender=partner.code)
        if reply.status >= 500:
            counts["failed"] += 1  # left in place: tried again on the next poll
        elif reply.status in (200, 409):
            message_id = read_header(raw).message_id
            _write_atomically(base / "out" / f"{message_id}.ack", reply.body)
            _move(path, inbox / "done")
            counts["accepted" if reply.status == 200 else "duplicate"] += 1
        else:
            _write_atomically(inbox / "rejected" / f"{path.name}.error.json", reply.body)
            _move(path, inbox / "rejected")
            counts["rejected"] += 1
    return {name: counts[name] for name in SPOOL_COUNTS}
