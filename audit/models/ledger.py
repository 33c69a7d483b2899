"""管理簿: every hand-over of data (an export) with date, handler, purpose, content, quantity and file digest."""

from django.conf import settings
from django.db import models


class HandoverRecord(models.Model):
    """管理簿の一件. Written in the same transaction as the export that produced the file; never changed after."""

    class Kind(models.TextChoices):
        AUDIT_LOG_CSV = "audit_log_csv", "監査ログ（CSV）"
        RECORDS_CSV = "records_csv", "記録の提供（CSV）"
        JLIS_EXPORT = "jlis_export", "附票本人確認情報の一括提供"
        BACKUP = "backup", "バックアップ"

    created_at = models.DateTimeField("日時", auto_now_add=True, db_index=True)
    kind = models.CharField("種類", max_length=30, choices=Kind.choices)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="取扱者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handler_name = models.CharField("取扱者ID", max_length=150, help_text="職員ID、またはバッチ名")
    purpose = models.CharField("目的", max_length=300)
    recipient = models.CharField("提供先", max_length=200, blank=True)
    content = models.CharField("内容", max_length=500, help_text="何の、どの条件の記録か（個人名は書かない）")
    row_count = models.PositiveIntegerField("件数")
    file_name = models.CharField("ファイル名", max_length=255)
    file_size = models.PositiveBigIntegerField("ファイルの大きさ（バイト）", default=0)
    file_digest = models.CharField("ファイルのハッシュ（SHA-256）", max_length=64)
    conditions = models.JSONField("条件", default=dict, blank=True)

    class Meta:
        verbose_name = "管理簿"
        verbose_name_plural = "管理簿"
        ordering = ["-created_at"]
        # The supervisor's exports (audit.exports): personal data leaves the system, encrypted, and is recorded here.
        permissions = [("export_records", "記録の書き出し（暗号化ZIP、管理簿に記録）")]

    def __str__(self) -> str:
        return f"管理簿 #{self.pk} {self.get_kind_display()}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise RuntimeError("管理簿の記録は変更できません")
        super().save(*args, **kwargs)
