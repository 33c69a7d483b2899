"""Steps of the delivery fault test (e2e/test_delivery_faults.py), run inside one instance with its own settings and
database: `manage.py shell -c "from e2e.fault_steps import move; move(...)"`.

Ward A makes changes and reads its outbox; ward B reports what it received and applied. Each step prints one line
`E2E-RESULT <json>` (ids, states, counts — no personal data). Dummy data only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
import urllib.error
import urllib.request
from collections import Counter
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import close_old_connections, transaction
from django.utils import timezone

from audit.models import AuditLogEntry
from common.context import audit_context
from koseki_fuhyo.choices import EntryStatus
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry
from registry import services
from registry.choices import ResidentStatus
from registry.models import Resident
from registry.services.entries import NewHousehold
from transfers.acks import read_ack
from transfers.envelope import PartnerKeys, new_header, seal
from transfers.keys import ward_identity
from transfers.models import InboundNotice, OutboundNotice, Partner

PREFIX = "E2E-RESULT "
CLERK = "e2e-clerk"
OPEN = ("pending", "sending", "sent", "failed")


def _emit(value: Any) -> None:
    print(PREFIX + json.dumps(value, ensure_ascii=False, default=str), flush=True)  # noqa: T201 - read by the test


def _clerk():
    user, _ = get_user_model().objects.get_or_create(username=CLERK, defaults={"last_name": "試験"})
    return user


def _notice(n: OutboundNotice) -> dict[str, Any]:
    return {
        "id": n.pk,
        "message_id": str(n.message_id),
        "code": n.juminhyo_code,
        "kind": n.kind,
        "receiver": n.receiver,
        "state": n.state,
        "attempts": n.attempts,
        "error": n.last_error,
        "created": n.created_at.timestamp(),
        "acknowledged": n.acknowledged_at.timestamp() if n.acknowledged_at else None,
    }


# --- Ward A: changes and the outbox -------------------------------------------------------------------------------


def _broker_reachable() -> bool:
    from transfers.tasks import deliver_notice

    try:
        deliver_notice.apply_async(args=[0], retry=False)  # notice 0 does not exist: a no-op if it is ever run
    except Exception:  # noqa: BLE001 - any broker failure
        return False
    return True


def fail_fast_on_broker_errors() -> None:
    """Give up on an unreachable broker at the first refused connection, as a publication with retry=False means
    (kombu otherwise keeps reconnecting for broker_connection_timeout, about 6 s a notice on Redis)."""
    from config.celery import app

    app.conf.broker_transport_options = {**(app.conf.broker_transport_options or {}), "max_retries": 0}


def move(addresses: dict[str, str], together: bool = False) -> None:
    """転居 of each resident (住民票コード -> new address in the ward), as the clerk: one service call and one
    transaction each, or (`together`) all in one transaction, committed at once. Prints the notices the moves wrote,
    how long the commits took (each notice is queued right after its commit) and whether the broker took a
    message."""
    today = timezone.localdate()
    before = OutboundNotice.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    started = time.monotonic()
    with audit_context(_clerk().pk, "e2e"), transaction.atomic() if together else contextlib.nullcontext():
        for code, address in addresses.items():
            resident = Resident.objects.get(juminhyo_code=code, status=ResidentStatus.CURRENT)
            services.move_within(
                [resident], change_date=today, notified_on=today, new_address=NewHousehold(address=address)
            )
    seconds = time.monotonic() - started
    notices = [_notice(n) for n in OutboundNotice.objects.filter(pk__gt=before).order_by("pk")]
    _emit({"notices": notices, "seconds": seconds, "broker_reachable": _broker_reachable()})


def outbox(message_ids: list[str] | None = None) -> None:
    """The outbox's states (all notices), and the given notices one by one."""
    rows = OutboundNotice.objects.order_by("pk")
    chosen = rows.filter(message_id__in=message_ids) if message_ids is not None else rows
    _emit(
        {
            "states": dict(Counter(rows.values_list("state", flat=True))),
            "notices": [_notice(n) for n in chosen],
            "acknowledged_audit": _acknowledged_audit(message_ids or []),
        }
    )


def _acknowledged_audit(message_ids: list[str]) -> dict[str, int]:
    counts = Counter(
        AuditLogEntry.objects.filter(category=AuditLogEntry.Category.TRANSMISSION, action="acknowledged")
        .filter(conditions__message_id__in=message_ids)
        .values_list("conditions__message_id", flat=True)
    )
    return {message_id: counts[message_id] for message_id in message_ids}


def wait_acknowledged(message_ids: list[str], timeout: float) -> None:
    """Poll until every given notice is acknowledged (or `timeout` seconds pass); then as `outbox`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        close_old_connections()
        done = OutboundNotice.objects.filter(message_id__in=message_ids, state=OutboundNotice.State.ACKNOWLEDGED)
        if done.count() == len(message_ids):
            break
        time.sleep(0.2)
    outbox(message_ids)


def wait_sending(timeout: float, fresh: float = 0.0) -> None:
    """Poll until a worker holds a claimed notice (state sending) whose lease runs at least `fresh` seconds more
    (a claim just made, so its worker is still inside the HTTP call); print those notices."""
    deadline = time.monotonic() + timeout
    found: list[OutboundNotice] = []
    while time.monotonic() < deadline:
        close_old_connections()
        limit = timezone.now() + dt.timedelta(seconds=fresh)
        found = list(OutboundNotice.objects.filter(state=OutboundNotice.State.SENDING, lease_until__gt=limit))
        if found:
            break
        time.sleep(0.05)
    _emit({"sending": [_notice(n) for n in found]})


def sweep() -> None:
    """One run of the sweeper in this process (what beat triggers): queue what is due."""
    from transfers.tasks import sweep_outbox

    _emit(sweep_outbox())


def requeue(message_id: str) -> None:
    """Put one acknowledged notice back to pending, as if its acknowledgement had been lost, and queue it."""
    from transfers.tasks import enqueue

    rows = OutboundNotice.objects.filter(message_id=message_id, state=OutboundNotice.State.ACKNOWLEDGED)
    notice = rows.get()
    rows.update(state=OutboundNotice.State.PENDING, next_attempt_at=None, lease_until=None, acknowledged_at=None)
    _emit({"requeued": notice.pk, "queued": enqueue([notice.pk])})


def replay(message_id: str, times: int = 2) -> None:
    """POST one notice to its receiver again, the same sealed bytes `times` times, outside the outbox (a replay).
    Prints each HTTP status and the status of the signed acknowledgement in the answer."""
    notice = OutboundNotice.objects.get(message_id=message_id)
    partner = Partner.objects.get(code=notice.receiver)
    me = ward_identity()
    keys = PartnerKeys.from_b64(partner.code, partner.sign_public, partner.box_public)
    header = new_header(notice.kind, notice.schema_version, me.code, partner.code, message_id=message_id)
    envelope = seal(header, notice.payload, me, keys)
    answers = []
    for _ in range(times):
        request = urllib.request.Request(  # noqa: S310 - loopback http endpoint registered by the test
            partner.endpoint, data=envelope, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                status, body = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        window = dt.timedelta(seconds=settings.TRANSFERS_CLOCK_WINDOW)
        ack = read_ack(body, me, keys, message_id, window=window) if status in (200, 409) else None
        answers.append({"status": status, "ack": ack.status if ack else None})
    _emit({"answers": answers})


# --- Ward B: what arrived and what was applied ---------------------------------------------------------------------


def received(moves: dict[str, str], message_ids: list[str]) -> None:
    """For each given message id: how many inbound notices carry it, their state. For each moved person
    (住民票コード -> the address A moved them to): how many 附票 address rows hold that address, how many J-LIS
    notices about them B raised, how many inbound notices about them B stored. Plus totals and the replay
    refusals B logged for the given ids."""
    close_old_connections()
    per_message = Counter(
        str(m) for m in InboundNotice.objects.filter(message_id__in=message_ids).values_list("message_id", flat=True)
    )
    states = dict(Counter(InboundNotice.objects.filter(message_id__in=message_ids).values_list("state", flat=True)))
    persons = {}
    for code, address in moves.items():
        entry = FuhyoEntry.objects.filter(juminhyo_code=code, status=EntryStatus.CURRENT).first()
        current = FuhyoAddress.objects.filter(entry=entry, is_current=True).first() if entry else None
        persons[code] = {
            "address_rows": FuhyoAddress.objects.filter(entry=entry, address=address).count() if entry else 0,
            "current_is_new": bool(current and current.address == address),
            "jlis_notices": OutboundNotice.objects.filter(juminhyo_code=code, kind="jlis_fuhyo").count(),
            "inbound": InboundNotice.objects.filter(juminhyo_code=code, kind="fuhyo_items").count(),
        }
    replays = Counter(
        AuditLogEntry.objects.filter(
            category=AuditLogEntry.Category.TRANSMISSION, action="rejected", conditions__code="replay"
        )
        .filter(conditions__message_id__in=message_ids)
        .values_list("conditions__message_id", flat=True)
    )
    _emit(
        {
            "per_message": {m: per_message[m] for m in message_ids},
            "states": states,
            "persons": persons,
            "total_inbound": InboundNotice.objects.count(),
            "replays": dict(replays),
            "last_received": max(
                (n.timestamp() for n in InboundNotice.objects.values_list("received_at", flat=True)), default=None
            ),
        }
    )
