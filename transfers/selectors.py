"""Reads of the outbox that the screens do."""

from django.db.models import QuerySet

from .models import OutboundNotice


def notices_about_resident(resident_id: int, limit: int = 50) -> QuerySet[OutboundNotice]:
    """The notices raised by changes to one 住民票, newest first (what the 住民票 page lists)."""
    return OutboundNotice.objects.filter(event__resident_id=resident_id).order_by("-id")[:limit]
