"""The one rule that protects a 除票: once removed, a 住民票 changes only by a statutory correction.

Statutory corrections are 職権修正 (incl. 誤記修正) and the completion of the 除票 on receipt of a 転入通知
(住基法9条1項).
Their services enter `statutory_correction()`; every other save of a removed row is refused by `Resident.save()`,
whichever path it comes from (service, admin, shell).
"""

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from django.core.exceptions import ValidationError

_allowed: ContextVar[str | None] = ContextVar("statutory_correction", default=None)


class RemovedRecordError(ValidationError):
    """A change to a 除票 outside the statutory corrections."""


@contextlib.contextmanager
def statutory_correction(reason: str) -> Iterator[None]:
    token = _allowed.set(reason)
    try:
        yield
    finally:
        _allowed.reset(token)


def correction_in_progress() -> str | None:
    return _allowed.get()
