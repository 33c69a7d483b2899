"""Writing the notices a change causes, in the transaction of the change itself."""

from django.db import transaction
from django.utils import timezone

from common.errors import clean_fields_or_raise
from common.models import ChangeEvent

from .models import OutboundNotice
from .models.outbound import subject_code
from .payloads import CURRENT_VERSION, validate
from .routing import route


def write_notices(event: ChangeEvent) -> list[OutboundNotice]:
    """Route one freshly recorded event and write its notices; mark the event routed. Called by
    common.events.record_event inside the service's transaction (so both commit or roll back together).

    Every payload is checked against the current version of its schema first: one that does not match is a
    programming error, and the PayloadError it raises rolls the whole change back; so does a receiver or a 住民票コード
    that fails its check digit (a ServiceError from the notice's own validators)."""
    notices = []
    for plan in route(event):
        version = CURRENT_VERSION[plan.kind]
        validate(plan.kind, version, plan.payload)  # every code in it checked by its check digit
        notice = OutboundNotice(
            kind=plan.kind,
            receiver=plan.receiver,
            schema_version=version,
            payload=plan.payload,
            event=event,
            juminhyo_code=subject_code(plan.payload),
        )
        clean_fields_or_raise(notice, ["receiver", "juminhyo_code"])
        notice.save()
        notices.append(notice)
    event.routed_at = timezone.now()
    event.save(update_fields=["routed_at"])
    if notices:
        # Delivery starts once the change is committed; a broker that is down then only delays it (the sweeper).
        ids = [notice.pk for notice in notices]
        transaction.on_commit(lambda: _enqueue(ids))
    return notices


def _enqueue(ids: list[int]) -> None:
    from .tasks import enqueue  # never raises

    enqueue(ids)
