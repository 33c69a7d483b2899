from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Development and test tools only: dummy data, demo accounts, simulators (never in production settings)."""

    name = "devtools"
    verbose_name = "開発用ツール"
