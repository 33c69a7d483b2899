"""除附票 past their retention period, and their erasure: the one place that deletes 戸籍 and 附票 rows. The retention
rule (how many years, the erasure record) is audit.purge's; which 戸籍 were closed before a day, and what goes with
one, is the register's."""

import datetime as dt

from django.db import models

from common.change_history import forget_history
from koseki_fuhyo.choices import KosekiStatus
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry, Koseki
from koseki_fuhyo.models.permissions import FuhyoEntryGroupObjectPermission, FuhyoEntryUserObjectPermission


def closed_before(cutoff: dt.date) -> models.QuerySet[Koseki]:
    """戸籍 closed (除籍) before `cutoff`."""
    return Koseki.objects.filter(status=KosekiStatus.CLOSED, closed_on__lt=cutoff)


def erase_closed_koseki(pk: int) -> list[str]:
    """Delete one closed 戸籍 with its 附票 rows, their addresses, their object permissions and the change history
    of all of them. Raises ProtectedError when something still refers to one (the caller keeps it). Returns one
    "label:id" line per row deleted, for the erasure record's digest."""
    entry_ids = list(FuhyoEntry.objects.filter(koseki_id=pk).values_list("pk", flat=True))
    address_ids = list(FuhyoAddress.objects.filter(entry_id__in=entry_ids).values_list("pk", flat=True))
    FuhyoAddress.objects.filter(pk__in=address_ids).delete()
    FuhyoEntryUserObjectPermission.objects.filter(content_object_id__in=entry_ids).delete()
    FuhyoEntryGroupObjectPermission.objects.filter(content_object_id__in=entry_ids).delete()
    FuhyoEntry.objects.filter(pk__in=entry_ids).delete()
    Koseki.objects.filter(pk=pk).delete()
    forget_history(FuhyoAddress, address_ids)
    forget_history(FuhyoEntry, entry_ids)
    forget_history(Koseki, [pk])
    return [
        f"koseki_fuhyo.koseki:{pk}",
        *(f"koseki_fuhyo.fuhyoentry:{e}" for e in entry_ids),
        *(f"koseki_fuhyo.fuhyoaddress:{a}" for a in address_ids),
    ]
