"""The audit log: append-only and hash-chained.

Every request to a view that shows personal data writes one entry (category `access`); granting, using and revoking
an object permission (`permission`) and, later, every transmission (`transmission`) go into the same chain. Each
entry carries the hash of its own content and of the previous entry, so that altering or removing a row is found by
`manage.py verify_audit_chain`; on PostgreSQL a trigger also refuses UPDATE and DELETE on the table.
"""

from django.conf import settings
from django.db import models

GENESIS_HASH = "0" * 64


class AuditLogEntry(models.Model):
    """監査ログの一件: who did what, when, from where, to which persons, with what outcome."""

    class Category(models.TextChoices):
        ACCESS = "access", "アクセス"
        PERMISSION = "permission", "権限"
        TRANSMISSION = "transmission", "送受信"
        ACCOUNT = "account", "アカウント"
        OPERATION = "operation", "運用"

    class Outcome(models.TextChoices):
        SHOWN = "shown", "表示"
        DENIED = "denied", "拒否"
        NOT_FOUND = "not_found", "該当なし"
        ERROR = "error", "エラー"
        DONE = "done", "実施"

    occurred_at = models.DateTimeField("日時")
    category = models.CharField("区分", max_length=20, choices=Category.choices)
    action = models.CharField("操作", max_length=60, help_text="画面名、または grant / revoke / use など")
    outcome = models.CharField("結果", max_length=20, choices=Outcome.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="職員", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    username = models.CharField("職員ID", max_length=150, blank=True)
    remote_addr = models.GenericIPAddressField("接続元IP", null=True, blank=True)
    session_hash = models.CharField("セッション", max_length=64, blank=True, help_text="セッションキーのハッシュ")
    request_id = models.CharField("要求ID", max_length=64, blank=True)
    method = models.CharField("メソッド", max_length=10, blank=True)
    path = models.CharField("パス", max_length=500, blank=True)
    subject_kind = models.CharField("対象の種類", max_length=40, blank=True)
    subject_ids = models.JSONField("対象の記録ID", default=list, blank=True)
    conditions = models.JSONField("検索条件・内容", default=dict, blank=True)
    lane = models.PositiveSmallIntegerField(
        "系列",
        default=0,
        db_default=0,
        help_text="チェーンの系列（同時に書く要求が一つの鍵を待たないよう、末尾を複数に分けている）",
    )
    prev_hash = models.CharField("前のハッシュ（同じ系列の前の記録）", max_length=64)
    entry_hash = models.CharField("ハッシュ", max_length=64, unique=True)

    class Meta:
        verbose_name = "監査ログ"
        verbose_name_plural = "監査ログ"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["user", "-occurred_at"], name="audit_user_time_idx"),
            models.Index(fields=["-occurred_at"], name="audit_time_idx"),
            models.Index(fields=["category", "-occurred_at"], name="audit_category_time_idx"),
            # The review's filters by screen/operation and by typed 職員ID (failed logins have no user); more on
            # PostgreSQL only in migration 0007 (docs/audit-review.md).
            models.Index(fields=["action", "-occurred_at"], name="audit_action_time_idx"),
            models.Index(fields=["username", "-occurred_at"], name="audit_username_time_idx"),
        ]

    def __str__(self) -> str:
        return f"監査ログ #{self.pk}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise RuntimeError("audit log entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("audit log entries are append-only")


class AuditChainHead(models.Model):
    """The end of one lane of the chain (the row with pk = lane + 1): locked while an entry is appended to that
    lane, so that its entries chain one after another, and compared with the lane's last entry so that removing the
    newest rows is found too. Several lanes let concurrent requests append without waiting for one another
    (audit/chain.py); entries written before lanes existed are lane 0."""

    last_entry_id = models.BigIntegerField("最終ID", default=0)
    last_hash = models.CharField("最終ハッシュ", max_length=64, default=GENESIS_HASH)

    @property
    def lane(self) -> int:
        return self.pk - 1

    class Meta:
        verbose_name = "監査ログの末尾"
        verbose_name_plural = "監査ログの末尾"
