"""The outbox: the one writer of OutboundNotice rows, in the transaction of the change (or of the clerk's answer)
itself, and the one hand-over to delivery once that transaction has committed."""

from django.db import transaction
from django.utils import timezone

from common.errors import clean_fields_or_raise
from common.models import ChangeEvent

from .envelope import payload_digest
from .models import OutboundNotice
from .payloads import CURRENT_VERSION, subject_code, validate
from .routing import route


def write_notices(event: ChangeEvent) -> list[OutboundNotice]:
    """Route one freshly recorded event and write its notices; mark the event routed. Called by
    common.events.record_event inside the service's transaction (so both commit or roll back together)."""
    notices = [write_notice(plan.kind, plan.receiver, plan.payload, event=event) for plan in route(event)]
    event.routed_at = timezone.now()
    event.save(update_fields=["routed_at"])
    deliver_after_commit([notice.pk for notice in notices])
    return notices


def write_notice(kind: str, receiver: str, payload: dict, **links) -> OutboundNotice:
    """Write one notice to the outbox (`links`: its event, the inbound notice it answers, the actor). Every service
    that sends a notice calls this, inside its own transaction.

    A receiver or a 住民票コード that fails its check digit is a ServiceError from the notice's own validators (a
    clerk answering an old inbound notice sees it); a payload that does not match the current version of its schema
    is a programming error, and the PayloadError it raises rolls the whole change back."""
    version = CURRENT_VERSION[kind]
    notice = OutboundNotice(
        kind=kind,
        receiver=receiver,
        schema_version=version,
        payload=payload,
        payload_digest=payload_digest(payload),
        juminhyo_code=subject_code(payload),
        **links,
    )
    clean_fields_or_raise(notice, ["receiver", "juminhyo_code"])
    validate(kind, version, payload)  # every code in it checked by its check digit
    notice.save()
    return notice


def deliver_after_commit(ids: list[int]) -> None:
    """Delivery starts once the transaction that wrote (or released) these notices commits; a broker that is down
    then only delays it (the sweeper queues them again)."""
    if not ids:
        return

    def enqueue() -> None:
        # inside: transfers.tasks imports transfers.delivery, which imports this module (cycle)
        from .tasks import enqueue  # never raises

        enqueue(ids)

    transaction.on_commit(enqueue)
