"""Clerks' resolutions of the received notices that wait (the inbox): each one transaction, each audited
(`resolved`, with the resolution), each refused with a Japanese ServiceError unless the notice is waiting.

- `confirm`: apply the proposed 職権 change of a 住民票記載事項通知 (9条2項), or a 附票記載事項通知 (19条1項) the
  clerk checked, or retry a 本籍転属通知 / 転入通知 once what stood in the way is fixed; a notice whose sender
  failed the authority rule (transfers.authority) only with a note saying what the clerk checked with the sender;
- `send_honseki_check`: answer a 附票記載事項通知 that does not agree with the 戸籍 with a 本籍照合通知 (19条2項) —
  never to a sender that failed the authority rule (the answer carries our 戸籍's values);
- `mark_corrected`: the clerk corrected the register through its own screens (e.g. after a 本籍照合通知);
- `dismiss`: nothing to do, with the reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.log import record_transmission
from common.context import audit_context, current
from common.errors import ServiceError

from . import handlers
from .authority import CONFIRM_NEEDS_NOTE
from .models import InboundNotice, OutboundNotice
from .outbox import deliver_after_commit, write_notice
from .payloads import honseki_check_payload, koseki_values_of
from .routing import NoticeKind

NOT_WAITING = "この通知は処理待ちではありません（すでに処理されています）。"


@contextlib.contextmanager
def _as(actor) -> Iterator[None]:
    """The clerk's audit context (kept when the web request already names the clerk)."""
    ctx = current()
    if ctx is not None and ctx.actor_id == actor.pk:
        yield
        return
    with audit_context(actor.pk, "inbox", request_id=ctx.request_id if ctx else None):
        yield


def _lock_waiting(inbound: InboundNotice) -> InboundNotice:
    notice = InboundNotice.objects.select_for_update().get(pk=inbound.pk)
    if notice.state != InboundNotice.State.WAITING:
        raise ServiceError(NOT_WAITING)
    return notice


def _resolve(notice: InboundNotice, resolution: str, actor, note: str, **details: Any) -> InboundNotice:
    notice.state = InboundNotice.State.DONE
    notice.resolution = resolution
    notice.resolved_by = actor
    notice.resolved_at = timezone.now()
    notice.resolution_note = note.strip()[:500]
    notice.save()
    record_transmission(
        "resolved",
        message_id=str(notice.message_id),
        kind=notice.kind,
        partner=notice.sender,
        digest=notice.payload_digest,
        actor=actor,
        details={"notice_id": notice.pk, "resolution": resolution, **details},
    )
    return notice


def confirm(inbound: InboundNotice, actor, note: str = "", **options: Any) -> InboundNotice:
    """Apply a waiting notice as the clerk checked it, through the registers' services. `options` go to the kind's
    handler (a 9条2項 記載: `household`, `relationship`)."""
    with _as(actor), transaction.atomic():
        notice = _lock_waiting(inbound)
        if notice.authority_refusal and not (note or "").strip():
            # The clerk overrides the authority rule (transfers.authority): what they checked stays on record.
            raise ServiceError({"note": [CONFIRM_NEEDS_NOTE]})
        handler = handlers.HANDLERS.get(notice.kind)
        if handler is None or not hasattr(handler, "confirm"):
            raise ServiceError("この種類の通知は確定できません。修正済または対応不要として完了してください。")
        outcome = handler.confirm(notice, **options)
        if outcome.resident is not None:
            notice.resident = outcome.resident
        if outcome.fuhyo_entry is not None:
            notice.fuhyo_entry = outcome.fuhyo_entry
        notice.change_group = outcome.change_group
        # A confirmation over the authority rule is marked in the chain (the supervisors' review can list them).
        override = {"authority_override": True} if notice.authority_refusal else {}
        return _resolve(notice, InboundNotice.Resolution.CONFIRMED, actor, note, **override)


def send_honseki_check(inbound: InboundNotice, actor, note: str = "") -> OutboundNotice:
    """本籍照合通知 (住基法19条2項) to the 住所地 that sent a 附票記載事項通知 which does not agree with our 戸籍 (or
    names nobody in it), with the 戸籍-side values. Written to the outbox in this transaction."""
    with _as(actor), transaction.atomic():
        notice = _lock_waiting(inbound)
        if notice.kind != NoticeKind.FUHYO_ITEMS:
            raise ServiceError("本籍照合通知は、附票記載事項通知に対してだけ送れます。")
        if notice.authority_refusal:
            # The answer carries our 戸籍's values: only for the 住所地 entitled to the notice (transfers.authority).
            raise ServiceError(
                "送信元がこの人の住所地と認められない通知には、本籍照合通知（戸籍の内容）を送れません。"
                "送信元に確認のうえ、対応不要として完了してください。"
            )
        notified = notice.payload["person"]
        if not notified.get("juminhyo_code"):
            raise ServiceError("住民票コードのない通知には本籍照合通知を送れません。")
        values = koseki_values_of(notice.fuhyo_entry) if notice.fuhyo_entry_id else None
        payload = honseki_check_payload(notice.message_id, notified, values)
        # A code that fails its check digit (in a notice stored before codes were checked) is the clerk's to see.
        reply = write_notice(NoticeKind.HONSEKI_CHECK, notice.sender, payload, in_reply_to=notice, actor=actor)
        _resolve(notice, InboundNotice.Resolution.CHECK_SENT, actor, note, reply_id=reply.pk)
        deliver_after_commit([reply.pk])
    return reply


def mark_corrected(inbound: InboundNotice, actor, note: str) -> InboundNotice:
    """The clerk corrected the register through its own screens (職権修正 …)."""
    with _as(actor), transaction.atomic():
        return _resolve(_lock_waiting(inbound), InboundNotice.Resolution.CORRECTED, actor, note)


def dismiss(inbound: InboundNotice, actor, note: str) -> InboundNotice:
    """Nothing to do for this notice; the reason is required."""
    if not (note or "").strip():
        raise ServiceError({"note": ["対応不要とする理由を入力してください。"]})
    with _as(actor), transaction.atomic():
        return _resolve(_lock_waiting(inbound), InboundNotice.Resolution.DISMISSED, actor, note)
