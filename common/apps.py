from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_roles(sender, using: str = "default", **kwargs) -> None:
    # inside: common.roles imports the auth models, which cannot be imported while apps.py loads (app registry)
    from .roles import ensure_roles

    ensure_roles()


class CommonConfig(AppConfig):
    """Shared plumbing: identifiers, validators, dates, the audit context, reference data and change events."""

    name = "common"
    verbose_name = "共通"

    def ready(self) -> None:
        # The four roles exist after every migrate, not only once demo users are created.
        post_migrate.connect(_ensure_roles, sender=self, dispatch_uid="common.ensure_roles")
