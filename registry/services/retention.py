"""住民票の除票 past their retention period, and their erasure: the one place that deletes 住民票 rows. The retention
rule (how many years, the erasure record) is audit.purge's; which rows are 除票 removed before a day, and what goes
with one, is the register's."""

import datetime as dt

from django.db import models

from common.change_history import forget_history
from registry.choices import ResidentStatus
from registry.models import Resident, ResidentChange
from registry.models.permissions import ResidentGroupObjectPermission, ResidentUserObjectPermission


def removed_before(cutoff: dt.date) -> models.QuerySet[Resident]:
    """除票 whose person was removed before `cutoff`."""
    return Resident.objects.filter(status=ResidentStatus.REMOVED, removed_on__lt=cutoff)


def erase_removed_resident(pk: int) -> list[str]:
    """Delete one 除票 with its 異動履歴, its object permissions and the change history of both. Raises
    ProtectedError when something still refers to it (the caller keeps it). Returns one "label:id" line per row
    deleted, for the erasure record's digest."""
    change_ids = list(ResidentChange.objects.filter(resident_id=pk).values_list("pk", flat=True))
    ResidentChange.objects.filter(pk__in=change_ids).delete()
    ResidentUserObjectPermission.objects.filter(content_object_id=pk).delete()
    ResidentGroupObjectPermission.objects.filter(content_object_id=pk).delete()
    Resident.objects.filter(pk=pk).delete()  # the model's delete() refuses; the queryset's is this service's
    forget_history(ResidentChange, change_ids)
    forget_history(Resident, [pk])
    return [f"registry.resident:{pk}", *(f"registry.residentchange:{c}" for c in change_ids)]
