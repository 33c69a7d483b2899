"""The error every service raises for bad input: a ValidationError whose messages are for the clerk, in Japanese.

Raised before anything is written, or inside the service's transaction so that nothing it wrote survives.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models


class ServiceError(ValidationError):
    """A request the registers refuse; `message_dict` (field → messages) or `messages` says why."""


def full_clean_or_raise(instance, **kwargs) -> None:
    """Run the model's own validation (field validators, clean(), constraints) and report it as a ServiceError."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as exc:
        raise ServiceError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None


def clean_fields_or_raise(instance: models.Model, fields: Iterable[str]) -> None:
    """Run the model's validators of the named fields only, and report a bad value as a ServiceError keyed by the
    field. For services that write with `objects.create` (which runs no validator) a row whose other fields they
    build themselves: e.g. the 住民票コード of a row, checked by its check digit."""
    names = set(fields)
    exclude = [field.name for field in instance._meta.fields if field.name not in names]
    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as exc:
        raise ServiceError(exc.message_dict) from None
