"""Delivering the outbox: every notice reaches its receiver, and is acknowledged exactly once.

The life of a notice (`OutboundNotice.state`):

    pending ──claim──> sending ──ack (HTTP)──────────────> acknowledged
       ^                  │  └──file written (spool)──> sent ──ack file──> acknowledged
       │                  │                               │
       └── retry (backoff)┘── attempts ≥ MAX ──> failed   └── no ack for a while: pending again (sweeper)
                                                  failed / long-silent sent ──resend (supervisor)──> pending

- **Claim** is one conditional UPDATE (`claim`): only a due `pending` row, or a `sending` row whose worker's lease
  ran out (the worker died), becomes `sending` with a new lease and one more attempt. The database decides who
  wins, on SQLite and PostgreSQL alike, so two workers never send the same attempt. The attempt number is the
  claim's fencing token: a worker whose lease ran out and was reclaimed can no longer change the row.
- **Sealing and sending happen outside any transaction** (a slow partner never holds a lock or a connection in a
  transaction). Each attempt seals afresh: same message id, fresh timestamp.
- **Acknowledgement** is a conditional UPDATE from any state but `acknowledged`: the notice is acknowledged once,
  however many workers or spool files report it (a signed ack is proof of receipt, so a late one still counts,
  even for a notice that was re-queued meanwhile). The J-LIS 符号 in an ack is stored (never logged).
- **Failure**: full-jitter exponential backoff (random in [0, min(BASE·2^(n-1), MAX)]), then `failed` after
  TRANSFERS_MAX_ATTEMPTS attempts; a refusal that retrying cannot cure (HTTP 4xx) fails at once. Failed notices
  wait for a supervisor's `resend`.
- **Circuit breaker** per partner: after BREAKER_THRESHOLD consecutive transport failures the partner is paused for
  a short time that doubles with every further failure (capped). While paused its notices are postponed without
  counting an attempt and the sweeper does not pick them, so a dead partner never occupies the workers; other
  partners are not affected.
- **Order per receiver and person**: a notice is not claimable while an older notice (smaller id) to the same
  receiver about the same 住民票コード is pending, sending or sent (unacknowledged). A failed one no longer
  holds the others back (it is a supervisor's matter). The check is one indexed EXISTS
  (index `outbox_person_order` on receiver, juminhyo_code, id for the unacknowledged states). Notices without a
  住民票コード are not ordered.

Every transmission step writes one audit entry (`audit.log.record_transmission`): message id, kind, partner, the
SHA-256 of the canonical payload, the attempt number and error text we wrote — never the payload itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import uuid
from collections import Counter
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.log import record_transmission
from audit.models import AuditLogEntry
from common.errors import ServiceError
from common.validators import validate_juminhyo_code

from .acks import Ack, read_ack
from .envelope import ACK_KIND, EnvelopeRejected, PartnerKeys, new_header, open_envelope, payload_digest, seal
from .keys import ward_identity
from .models import IdentifierSymbol, OutboundNotice, Partner
from .outbox import deliver_after_commit
from .routing import JLIS
from .transport import TransportError, spool, transport_for

logger = logging.getLogger(__name__)
State = OutboundNotice.State
UNACKNOWLEDGED = (State.PENDING, State.SENDING, State.SENT)


class Outcome:
    """What one `deliver` call did."""

    ACKNOWLEDGED = "acknowledged"  # the receiver's signed ack was checked and recorded
    SENT = "sent"  # written to a spool; the ack comes later
    RETRIED = "retried"  # this attempt failed; another is scheduled
    FAILED = "failed"  # given up (attempts exhausted, or refused for good)
    PAUSED = "paused"  # the partner is paused (circuit breaker): postponed, no attempt counted
    SKIPPED = "skipped"  # nothing to do: not due, claimed by another worker, waiting for an older notice, done
    UNCONNECTED = "unconnected"  # no registered, active partner for the receiver: set aside until there is one


def breaker_threshold() -> int:
    return int(settings.TRANSFERS_BREAKER_THRESHOLD)


def backoff_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, …): full jitter over an exponential cap."""
    base = settings.TRANSFERS_BACKOFF_BASE
    cap = min(settings.TRANSFERS_BACKOFF_MAX, base * 2 ** min(max(attempt - 1, 0), 60))
    return (rng or random).uniform(0, cap)


def _actor(notice: OutboundNotice):
    """Who an entry about this notice names: the clerk whose change caused it for the first attempt; a retry, the
    sweeper's or a worker's doing, is the system's."""
    if notice.attempts > 1:
        return None
    if notice.actor_id:
        return notice.actor
    return notice.event.actor if notice.event is not None else None


def _audit(action: str, notice: OutboundNotice, outcome: str = AuditLogEntry.Outcome.DONE, **details: Any) -> None:
    record_transmission(
        action,
        message_id=str(notice.message_id),
        kind=notice.kind,
        partner=notice.receiver,
        digest=notice.payload_digest or payload_digest(notice.payload),
        outcome=outcome,
        actor=_actor(notice),
        details=details,
    )


# --- claiming ---------------------------------------------------------------------------------------------------


def _claimable(now: dt.datetime) -> Q:
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    expired = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return (Q(state=State.PENDING) & due) | (Q(state=State.SENDING) & expired)


def _older_unacknowledged(receiver: Any, juminhyo_code: Any, before_id: Any) -> Exists:
    return Exists(
        OutboundNotice.objects.filter(
            receiver=receiver, juminhyo_code=juminhyo_code, id__lt=before_id, state__in=UNACKNOWLEDGED
        )
    )


def claim(notice_id: int) -> OutboundNotice | None:
    """Take the notice for one delivery attempt, or None when it is not claimable (not due, taken by a live worker,
    an older notice about the same person to the same receiver is still unacknowledged, or already done)."""
    key = OutboundNotice.objects.filter(pk=notice_id).values("receiver", "juminhyo_code").first()
    if key is None:
        return None
    now = timezone.now()
    rows = OutboundNotice.objects.filter(_claimable(now), pk=notice_id)
    if key["juminhyo_code"]:
        rows = rows.filter(~_older_unacknowledged(key["receiver"], key["juminhyo_code"], notice_id))
    updated = rows.update(
        state=State.SENDING,
        lease_until=now + dt.timedelta(seconds=settings.TRANSFERS_LEASE),
        attempts=F("attempts") + 1,
    )
    if updated != 1:
        return None
    return OutboundNotice.objects.select_related("event__actor", "actor").get(pk=notice_id)


# --- the partner's circuit breaker --------------------------------------------------------------------------------


def _partner_failed(partner: Partner) -> None:
    Partner.objects.filter(pk=partner.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    failures = Partner.objects.values_list("consecutive_failures", flat=True).get(pk=partner.pk)
    threshold = breaker_threshold()
    if failures >= threshold:
        pause = min(
            settings.TRANSFERS_BREAKER_PAUSE_MAX,
            settings.TRANSFERS_BREAKER_PAUSE * 2 ** min(failures - threshold, 30),
        )
        Partner.objects.filter(pk=partner.pk).update(paused_until=timezone.now() + dt.timedelta(seconds=pause))
        logger.warning("partner %s paused for %.0f s after %d consecutive failures", partner.code, pause, failures)


def _partner_ok(partner: Partner) -> None:
    Partner.objects.filter(pk=partner.pk).filter(Q(consecutive_failures__gt=0) | Q(paused_until__isnull=False)).update(
        consecutive_failures=0, paused_until=None
    )


def _postpone_while_paused(notice_id: int, until: dt.datetime) -> None:
    OutboundNotice.objects.filter(pk=notice_id, state=State.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=until)
    ).update(next_attempt_at=until)


# --- one delivery -----------------------------------------------------------------------------------------------


def _attempt_failed(
    notice: OutboundNotice,
    message: str,
    *,
    retryable: bool = True,
    partner: Partner | None = None,
    status: int | None = None,
) -> str:
    """Record a failed attempt (only while this worker still holds the claim): retry later, or give up."""
    attempt = notice.attempts
    give_up = not retryable or attempt >= settings.TRANSFERS_MAX_ATTEMPTS
    now = timezone.now()
    changes: dict[str, Any] = {"lease_until": None, "last_error": message[:500]}
    if give_up:
        changes.update(state=State.FAILED, next_attempt_at=None)
    else:
        changes.update(state=State.PENDING, next_attempt_at=now + dt.timedelta(seconds=backoff_delay(attempt)))
    updated = OutboundNotice.objects.filter(pk=notice.pk, state=State.SENDING, attempts=attempt).update(**changes)
    if partner is not None:
        _partner_failed(partner)
    if not updated:  # our lease ran out and another worker owns the notice now
        return Outcome.SKIPPED
    details: dict[str, Any] = {"attempt": attempt, "error": message[:200]}
    if status is not None:
        details["status"] = status
    if give_up:
        _audit("failed", notice, AuditLogEntry.Outcome.ERROR, **details)
        logger.warning("notice %s failed after %d attempt(s)", notice.pk, attempt)
        return Outcome.FAILED
    _audit("retried", notice, AuditLogEntry.Outcome.ERROR, **details)
    return Outcome.RETRIED


def _set_aside_unconnected(notice: OutboundNotice) -> str:
    """A receiver this ward has no connection with (no registered, active partner): no retries — the notice waits as
    送信先未接続, counted on the outbox's banner, until `register_partner` connects the receiver and queues it again.
    One entry, the system's."""
    message = (
        f"宛先 {notice.receiver} は通信相手として登録されていません（送信先未接続）。通信相手を登録すると送信します。"
    )
    updated = OutboundNotice.objects.filter(pk=notice.pk, state=State.SENDING, attempts=notice.attempts).update(
        state=State.UNCONNECTED, lease_until=None, next_attempt_at=None, last_error=message
    )
    if not updated:
        return Outcome.SKIPPED
    record_transmission(
        "unconnected",
        message_id=str(notice.message_id),
        kind=notice.kind,
        partner=notice.receiver,
        digest=notice.payload_digest or payload_digest(notice.payload),
        outcome=AuditLogEntry.Outcome.ERROR,
        actor=None,
        details={"attempt": notice.attempts},
    )
    logger.warning("notice %s set aside: receiver %s is not connected", notice.pk, notice.receiver)
    return Outcome.UNCONNECTED


def requeue_unconnected(receiver: str) -> int:
    """The receiver is connected now: its notices set aside as 送信先未接続 are due again (the sweeper sends them).
    Returns how many."""
    return OutboundNotice.objects.filter(receiver=receiver, state=State.UNCONNECTED).update(
        state=State.PENDING, next_attempt_at=timezone.now(), last_error=""
    )


def _store_symbol(notice: OutboundNotice, ack: Ack) -> None:
    """The 情報提供用個人識別符号 J-LIS returned: stored for the notice's person only, never logged."""
    symbol = ack.symbol or {}
    code, value = symbol.get("juminhyo_code", ""), symbol.get("symbol", "")
    if notice.receiver != JLIS or not value or len(value) > 64:
        return
    if notice.juminhyo_code and code != notice.juminhyo_code:
        logger.warning("notice %s: an ack carried a symbol for another person; ignored", notice.pk)
        return
    try:
        validate_juminhyo_code(code)  # IdentifierSymbol.juminhyo_code's validator
    except ValidationError:
        logger.warning("notice %s: an ack carried a symbol for a 住民票コード that fails its check; ignored", notice.pk)
        return
    IdentifierSymbol.objects.update_or_create(
        juminhyo_code=code, defaults={"symbol": value, "message_id": notice.message_id}
    )


def _acknowledge(notice: OutboundNotice, ack: Ack, via: str) -> str:
    """Mark the notice acknowledged — once: a second report of the same ack changes nothing."""
    now = timezone.now()
    digest = notice.payload_digest or payload_digest(notice.payload)
    with transaction.atomic():
        updated = (
            OutboundNotice.objects.filter(pk=notice.pk)
            .exclude(state=State.ACKNOWLEDGED)
            .update(
                state=State.ACKNOWLEDGED,
                acknowledged_at=now,
                sent_at=Coalesce(F("sent_at"), now),
                lease_until=None,
                next_attempt_at=None,
                last_error="",
                payload_digest=digest,
            )
        )
        if not updated:
            return Outcome.SKIPPED
        notice.payload_digest = digest
        _store_symbol(notice, ack)
        _audit("acknowledged", notice, status=ack.status, via=via, attempt=notice.attempts)
    return Outcome.ACKNOWLEDGED


def _seal(notice: OutboundNotice, partner: Partner) -> tuple[bytes, PartnerKeys]:
    me = ward_identity()
    keys = PartnerKeys.from_b64(partner.code, partner.sign_public, partner.box_public)
    header = new_header(notice.kind, notice.schema_version, me.code, partner.code, message_id=str(notice.message_id))
    return seal(header, notice.payload, me, keys), keys


def deliver(notice_id: int) -> str:
    """One delivery attempt of one notice (idempotent: a notice that is not claimable is skipped). Returns an
    `Outcome` value. Call it outside any transaction: the sealing and the network call must not hold one."""
    current = OutboundNotice.objects.filter(pk=notice_id).values("state", "receiver").first()
    if current is None or current["state"] in (State.ACKNOWLEDGED, State.FAILED, State.SENT):
        return Outcome.SKIPPED
    partner = Partner.objects.filter(code=current["receiver"]).first()
    now = timezone.now()
    if partner is not None and partner.is_active and partner.paused_until and partner.paused_until > now:
        _postpone_while_paused(notice_id, partner.paused_until)
        return Outcome.PAUSED
    notice = claim(notice_id)
    if notice is None:
        return Outcome.SKIPPED
    if partner is None or not partner.is_active:
        return _set_aside_unconnected(notice)
    try:
        envelope, keys = _seal(notice, partner)
    except ImproperlyConfigured:
        return _attempt_failed(notice, "この団体の鍵が読めません（generate_ward_keys を確認してください）。")
    except ValueError:
        return _attempt_failed(notice, f"通信相手 {partner.code} の公開鍵が正しくありません。")
    try:
        answer = transport_for(partner).send(partner, str(notice.message_id), envelope)
    except TransportError as exc:
        return _attempt_failed(
            notice, exc.message, retryable=exc.retryable, partner=partner if exc.retryable else None, status=exc.status
        )
    notice.payload_digest = notice.payload_digest or payload_digest(notice.payload)
    if answer is None:  # spool: written; the acknowledgement arrives as a file later
        OutboundNotice.objects.filter(pk=notice.pk, state=State.SENDING, attempts=notice.attempts).update(
            state=State.SENT,
            sent_at=timezone.now(),
            lease_until=None,
            next_attempt_at=None,
            last_error="",
            payload_digest=notice.payload_digest,
        )
        _audit("sent", notice, via="spool", attempt=notice.attempts)
        _partner_ok(partner)
        return Outcome.SENT
    _audit("sent", notice, via="http", attempt=notice.attempts)
    try:
        ack = read_ack(
            answer,
            ward_identity(),
            keys,
            str(notice.message_id),
            window=dt.timedelta(seconds=settings.TRANSFERS_CLOCK_WINDOW),
        )
    except EnvelopeRejected as exc:
        _audit("rejected", notice, AuditLogEntry.Outcome.DENIED, code=exc.code, what="ack")
        return _attempt_failed(notice, f"受領確認を検証できません（{exc.code}）。", partner=partner)
    _partner_ok(partner)
    return _acknowledge(notice, ack, via="http")


# --- spool acknowledgements --------------------------------------------------------------------------------------

SPOOL_ACK_WINDOW = dt.timedelta(days=30)  # an ack file may wait for us (downtime); replaying one changes nothing


def _take_spooled_ack(partner: Partner, keys: PartnerKeys, item: spool.SpooledAck) -> str:
    me = ward_identity()
    try:
        opened = open_envelope(item.raw, me, lambda code: keys if code == keys.code else None, window=SPOOL_ACK_WINDOW)
        if opened.header.kind != ACK_KIND:
            raise EnvelopeRejected(EnvelopeRejected.BAD_PAYLOAD, "応答ではありません", opened.header)
        try:
            answered = uuid.UUID(str(opened.body.get("in_reply_to")))
        except ValueError:
            raise EnvelopeRejected(EnvelopeRejected.BAD_PAYLOAD, "応答先の通知IDがありません", opened.header) from None
        notice = (
            OutboundNotice.objects.select_related("event__actor", "actor")
            .filter(message_id=answered, receiver=partner.code)
            .first()
        )
        if notice is None:
            raise EnvelopeRejected(EnvelopeRejected.BAD_PAYLOAD, "送っていない通知への応答です", opened.header)
        ack = read_ack(item.raw, me, keys, str(notice.message_id), window=SPOOL_ACK_WINDOW)
    except EnvelopeRejected as exc:
        spool.archive(item, accepted=False)
        record_transmission(
            "rejected",
            message_id=exc.header.message_id if exc.header else "",
            kind=ACK_KIND,
            partner=partner.code,
            outcome=AuditLogEntry.Outcome.DENIED,
            details={"code": exc.code, "via": "spool", "what": "ack"},
        )
        return "rejected"
    outcome = _acknowledge(notice, ack, via="spool")
    spool.archive(item, accepted=True)
    return outcome


def collect_spool_acks(partner_code: str | None = None) -> Counter[str]:
    """Read the acknowledgement files of the spool partners (or of one), record them, move them to in/done/ (or
    in/rejected/). Returns counts: acknowledged, skipped (already acknowledged), rejected."""
    counts: Counter[str] = Counter()
    partners = Partner.objects.filter(transport=Partner.Transport.SPOOL, is_active=True).exclude(spool_dir="")
    if partner_code:
        partners = partners.filter(code=partner_code)
    for partner in partners:
        keys = PartnerKeys.from_b64(partner.code, partner.sign_public, partner.box_public)
        for item in spool.collect_acks(partner):
            counts[_take_spooled_ack(partner, keys, item)] += 1
    return counts


# --- the supervisor's resend --------------------------------------------------------------------------------------


def resend(notice: OutboundNotice, actor: Any, reason: str) -> OutboundNotice:
    """再送指示: a failed notice, or one sent long ago (TRANSFERS_OVERDUE_AFTER) without an acknowledgement, goes
    back to the queue with a fresh count of attempts. The reason is required and goes to the audit log."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("再送の理由を入力してください。")
    overdue = timezone.now() - dt.timedelta(seconds=settings.TRANSFERS_OVERDUE_AFTER)
    previous = notice.state
    with transaction.atomic():
        updated = (
            OutboundNotice.objects.filter(pk=notice.pk)
            .filter(Q(state=State.FAILED) | Q(state=State.SENT, sent_at__lt=overdue))
            .update(
                state=State.PENDING,
                attempts=0,
                resent_count=F("resent_count") + 1,
                next_attempt_at=None,
                lease_until=None,
            )
        )
        if not updated:
            raise ServiceError("再送できるのは、送信に失敗した通知か、長く受領確認のない送信済の通知だけです。")
        notice.refresh_from_db()
        record_transmission(
            "resent",
            message_id=str(notice.message_id),
            kind=notice.kind,
            partner=notice.receiver,
            digest=notice.payload_digest or payload_digest(notice.payload),
            actor=actor,
            details={"reason": reason[:200], "previous_state": previous, "resent_count": notice.resent_count},
        )
        deliver_after_commit([notice.pk])
    return notice


# --- what the sweeper and the nightly batch deliver ---------------------------------------------------------------


def requeue_silent_spool_notices(now: dt.datetime | None = None) -> int:
    """Sent notices without an acknowledgement for TRANSFERS_SPOOL_RESEND_AFTER seconds (default: the overdue
    time) are queued again: the same message id is written anew (a receiver that has it answers "duplicate")."""
    after = settings.TRANSFERS_SPOOL_RESEND_AFTER
    before = (now or timezone.now()) - dt.timedelta(seconds=after)
    return OutboundNotice.objects.filter(state=State.SENT, sent_at__lt=before).update(
        state=State.PENDING, next_attempt_at=None
    )


def _due(now: dt.datetime) -> Any:
    paused = Partner.objects.filter(paused_until__gt=now).values("code")
    waiting = _older_unacknowledged(OuterRef("receiver"), OuterRef("juminhyo_code"), OuterRef("id"))
    ordered_ok = Q(juminhyo_code="") | ~waiting
    return OutboundNotice.objects.filter(_claimable(now)).exclude(receiver__in=paused).filter(ordered_ok)


def due_notice_ids(limit: int = 100, per_partner: int | None = None, *, requeue: bool = True) -> list[int]:
    """Ids of the notices to deliver now, oldest first: due pending ones, sending ones whose lease ran out, and
    (with `requeue`) spool notices long without an acknowledgement, put back to pending here. At most
    `per_partner` per receiver (default TRANSFERS_SWEEP_PER_PARTNER or 20), so one partner's backlog cannot fill
    a sweep; paused partners and notices waiting for an older one about the same person are left out."""
    now = timezone.now()
    if requeue:
        requeue_silent_spool_notices(now)
    per_partner = per_partner or int(settings.TRANSFERS_SWEEP_PER_PARTNER)
    due = _due(now)
    receivers = list(due.order_by("receiver").values_list("receiver", flat=True).distinct())
    ids: list[int] = []
    for receiver in receivers:
        ids += list(due.filter(receiver=receiver).order_by("id").values_list("id", flat=True)[:per_partner])
    return sorted(ids)[:limit]


def count_due(*, include_silent: bool = True) -> Counter[tuple[str, str]]:
    """How many notices are due, per (receiver, kind), without changing anything (the batch's dry run)."""
    now = timezone.now()
    rows = list(_due(now).values_list("receiver", "kind"))
    if include_silent:
        after = settings.TRANSFERS_SPOOL_RESEND_AFTER
        silent = OutboundNotice.objects.filter(state=State.SENT, sent_at__lt=now - dt.timedelta(seconds=after))
        rows += list(silent.values_list("receiver", "kind"))
    return Counter(rows)
