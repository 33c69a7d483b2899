"""The error every service raises for bad input: a ValidationError whose messages are for the clerk, in Japanese.

Raised before anything is written, or inside the service's transaction so that nothing it wrote survives.
"""

from django.core.exceptions import ValidationError


class ServiceError(ValidationError):
    """A request the registers refuse; `message_dict` (field → messages) or `messages` says why."""
