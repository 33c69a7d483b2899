from django.apps import AppConfig


class KosekiFuhyoConfig(AppConfig):
    """戸籍・戸籍の附票・戸籍届出."""

    name = "koseki_fuhyo"
    verbose_name = "戸籍・附票"

    def ready(self) -> None:
        from . import auditlog_registration  # noqa: F401 - registers the models with django-auditlog
