from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """運用: backups of the database and the audit seals, their restore check, and the encrypted stream container
    the backups and the J-LIS bulk export are written in."""

    name = "operations"
    verbose_name = "運用"
