from django.apps import AppConfig


class TransfersConfig(AppConfig):
    """通知の送受信: 住民票記載事項通知, 附票記載事項通知, 本籍照合通知, 本籍転属通知, 転入通知, J-LIS 附票本人確認情報.

    The registers' services record ChangeEvent rows (common.models); this app routes them to notices.
    """

    name = "transfers"
    verbose_name = "通知の送受信"

    def ready(self) -> None:
        # inside ready(): transfers.outbox imports models, which cannot load while apps.py is imported
        from common.events import register_router

        from .outbox import write_notices

        register_router(write_notices)
