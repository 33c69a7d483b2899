"""Opening and closing 戸籍 of the ward (編製・除籍)."""

import datetime as dt
import uuid

from common.errors import full_clean_or_raise
from common.events import record_event
from common.models import ChangeEvent

from ..choices import EntryStatus, KosekiStatus
from ..models import Koseki


def open_koseki(
    honseki_address: str,
    hittousha_surname: str,
    hittousha_given_name: str,
    formed_on: dt.date,
    reason: str,
    group: uuid.UUID,
    *,
    filing=None,
) -> Koseki:
    koseki = Koseki(
        honseki_address=honseki_address.strip(),
        hittousha_surname=hittousha_surname,
        hittousha_given_name=hittousha_given_name,
        formed_on=formed_on,
        formed_reason=reason,
    )
    full_clean_or_raise(koseki)
    koseki.save()
    record_event(
        ChangeEvent.Kind.KOSEKI_OPENED,
        group,
        reason,
        {"koseki_id": koseki.pk, "honseki_address": koseki.honseki_address, "hittousha_name": koseki.hittousha_name},
        koseki=koseki,
        filing=filing,
    )
    return koseki


def close_if_empty(koseki: Koseki, closed_on: dt.date, reason: str, group: uuid.UUID, *, filing=None) -> bool:
    """全員除籍: a 戸籍 without any current member is closed; its 附票 becomes a 除附票. The row is read again under
    its lock: a caller's object may predate a close made earlier in the same filing (each member's departure may
    close it), and a 戸籍 is closed once, with one event."""
    locked = Koseki.objects.select_for_update().get(pk=koseki.pk)
    closing = locked.status == KosekiStatus.CURRENT and not locked.entries.filter(status=EntryStatus.CURRENT).exists()
    if closing:
        locked.status = KosekiStatus.CLOSED
        locked.closed_on = closed_on
        locked.closed_reason = reason
        locked.save(update_fields=["status", "closed_on", "closed_reason", "updated_at"])
        record_event(
            ChangeEvent.Kind.KOSEKI_CLOSED,
            group,
            reason,
            {
                "koseki_id": locked.pk,
                "honseki_address": locked.honseki_address,
                "hittousha_name": locked.hittousha_name,
            },
            koseki=locked,
            filing=filing,
        )
    koseki.status, koseki.closed_on, koseki.closed_reason = locked.status, locked.closed_on, locked.closed_reason
    return closing
