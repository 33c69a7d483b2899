"""Shared helpers of the audit screen tests: users holding exactly some permissions, entries at a chosen time, and
the access entries a request wrote."""

import contextlib
import datetime as dt
from collections.abc import Iterator

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from audit import chain
from audit.models import AuditLogEntry

PASSWORD = "pass-for-tests-only"


def user_with(username: str, *permissions: str, **extra):
    """A user holding exactly these permissions ("app_label.codename"), fresh from the database."""
    user_model = get_user_model()
    user = user_model.objects.create_user(username=username, password=PASSWORD, **extra)
    for name in permissions:
        app_label, codename = name.split(".", 1)
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user_model.objects.get(pk=user.pk)


@contextlib.contextmanager
def at(moment: dt.datetime) -> Iterator[None]:
    """Entries appended inside the block carry `moment` as their time (the clock stands still there)."""
    import time_machine

    with time_machine.travel(moment, tick=False):
        yield


def append(**fields) -> AuditLogEntry:
    values = {
        "category": "access",
        "action": "views.resident_detail",
        "outcome": "shown",
        "username": "clerk",
        "subject_kind": "resident",
        "subject_ids": [],
        "conditions": {},
    }
    values.update(fields)
    return chain.append(**values)


def last_id() -> int:
    return AuditLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def entries_after(mark: int, **filters) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(pk__gt=mark, **filters).order_by("pk"))
