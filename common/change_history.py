"""The change history (django-auditlog rows) of register rows the retention rules erase: it holds the same personal
data, so it goes with them (registry.services.retention, koseki_fuhyo.services.retention)."""

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models


def forget_history(model: type[models.Model], ids: list[int]) -> int:
    """Delete the change history of these rows of `model`; returns how many history rows went."""
    if not ids:
        return 0
    content_type = ContentType.objects.get_for_model(model)
    deleted, _ = LogEntry.objects.filter(content_type=content_type, object_pk__in=[str(i) for i in ids]).delete()
    return deleted
