from django.apps import AppConfig


class AuditConfig(AppConfig):
    """アクセスログと送受信ログ、監督者の画面: the gate every personal-data view goes through, the hash-chained log, and
    the supervisor's review of it."""

    name = "audit"
    verbose_name = "監査"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the login / logout / failed-login receivers
