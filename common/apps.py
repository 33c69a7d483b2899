from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Shared plumbing: identifiers, validators, dates, the audit context, reference data and change events."""

    name = "common"
    verbose_name = "共通"
