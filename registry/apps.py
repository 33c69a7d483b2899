from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """住民基本台帳: 世帯, 住民票 and their 異動 history."""

    name = "registry"
    verbose_name = "住民基本台帳"

    def ready(self) -> None:
        from . import auditlog_registration  # noqa: F401 - registers the models with django-auditlog
