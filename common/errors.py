"""The error every service raises for bad input: a ValidationError whose messages are for the clerk, in Japanese.

Raised before anything is written, or inside the service's transaction so that nothing it wrote survives.
"""

from django.core.exceptions import ValidationError


class ServiceError(ValidationError):
    """A request the registers refuse; `message_dict` (field → messages) or `messages` says why."""


def full_clean_or_raise(instance, **kwargs) -> None:
    """Run the model's own validation (field validators, clean(), constraints) and report it as a ServiceError."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as exc:
        raise ServiceError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None
