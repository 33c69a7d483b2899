from django.apps import AppConfig


class AuditConfig(AppConfig):
    """アクセスログと送受信ログ、監督者の画面 (issue 3 and 5)."""

    name = "audit"
    verbose_name = "監査"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the login / logout / failed-login receivers
