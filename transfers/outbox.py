"""Writing the notices a change causes, in the transaction of the change itself."""

from django.utils import timezone

from common.models import ChangeEvent

from .models import OutboundNotice
from .routing import route


def write_notices(event: ChangeEvent) -> list[OutboundNotice]:
    """Route one freshly recorded event and write its notices; mark the event routed. Called by
    common.events.record_event inside the service's transaction (so both commit or roll back together)."""
    notices = [
        OutboundNotice.objects.create(kind=plan.kind, receiver=plan.receiver, payload=plan.payload, event=event)
        for plan in route(event)
    ]
    event.routed_at = timezone.now()
    event.save(update_fields=["routed_at"])
    return notices
