"""Notification payloads past their retention period (RETENTION_NOTICE_PAYLOAD_DAYS), and their blanking: the one
place that empties a notice's payload. The rule and the erasure record are audit.purge's; which notices are settled
and how a payload is blanked (its digest kept, so that the audit chain's transmission entries still identify what
was sent) is the notices'."""

import datetime as dt

from django.db import models

from .delivery import payload_digest
from .models import InboundNotice, OutboundNotice


def settled_with_payload(before: dt.datetime) -> dict[str, models.QuerySet]:
    """Outbound notices acknowledged, and inbound notices applied or done, before `before` that still hold a
    payload, by kind ("outbound", "inbound")."""
    return {
        "outbound": OutboundNotice.objects.filter(
            state=OutboundNotice.State.ACKNOWLEDGED, acknowledged_at__lt=before
        ).exclude(payload={}),
        "inbound": InboundNotice.objects.filter(
            state__in=[InboundNotice.State.APPLIED, InboundNotice.State.DONE], received_at__lt=before
        ).exclude(payload={}),
    }


def blank_payloads(model: type[OutboundNotice] | type[InboundNotice], ids: list[int]) -> list[str]:
    """Blank the payloads of these notices to {} and keep (or compute) their digest. Returns one
    "label:id:digest" line per notice, for the erasure record's digest."""
    lines: list[str] = []
    for pk, payload, digest in model.objects.filter(pk__in=ids).values_list("pk", "payload", "payload_digest"):
        digest = digest or payload_digest(payload)
        lines.append(f"{model._meta.label_lower}:{pk}:{digest}")
        # Not audited (no change history to bypass): keep the digest, blank the rest.
        model.objects.filter(pk=pk).update(payload={}, payload_digest=digest)
    return lines
