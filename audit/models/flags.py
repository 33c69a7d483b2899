"""The periodic analysis of the logs: each finding is a flag that a supervisor reviews, with a comment."""

from django.conf import settings
from django.db import models


class AnalysisFlag(models.Model):
    """分析で見つかった事項: one finding of `analyze_access_logs` for one day, one kind and one clerk (or notice).

    Re-running the analysis for a day finds the same flags again and changes nothing (unique on day, kind, who and
    key). Only ids, counts and codes in `details` — never names or addresses."""

    class Kind(models.TextChoices):
        MASS_LOOKUP = "mass_lookup", "大量閲覧"
        AFTER_HOURS = "after_hours", "時間外の閲覧"
        HOLIDAY = "holiday", "休日の閲覧"
        REPEATED_DENIAL = "repeated_denial", "拒否の繰り返し"
        GRANT_USE = "grant_use", "支援措置対象者の閲覧（個別許可の使用）"
        MASKED_HIT = "masked_hit", "閲覧制限のある方が検索に該当（伏せて表示）"
        FAILED_LOGIN = "failed_login", "ログインの失敗"
        NOTICE_OVERDUE = "notice_overdue", "通知の遅延"
        NOTICE_FAILED = "notice_failed", "通知の送信失敗"

    analysed_on = models.DateField("対象日", db_index=True)
    kind = models.CharField("種類", max_length=30, choices=Kind.choices)
    username = models.CharField("職員ID", max_length=150, blank=True, help_text="職員に関する事項のとき")
    key = models.CharField("識別", max_length=100, blank=True, help_text="通知IDなど、同じ日・種類・職員の中の区別")
    count = models.PositiveIntegerField("件数", default=0)
    details = models.JSONField("内容", default=dict, blank=True)
    created_at = models.DateTimeField("検出日時", auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="確認者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("確認日時", null=True, blank=True)
    review_comment = models.CharField("確認のコメント", max_length=500, blank=True)

    class Meta:
        verbose_name = "分析で見つかった事項"
        verbose_name_plural = "分析で見つかった事項"
        ordering = ["-analysed_on", "kind", "username"]
        constraints = [
            models.UniqueConstraint(fields=["analysed_on", "kind", "username", "key"], name="flag_once_per_day"),
        ]
        indexes = [
            models.Index(fields=["reviewed_at", "-analysed_on"], name="flag_review_queue"),
        ]
        permissions = [("review_analysisflag", "分析で見つかった事項の確認（コメントつき）")]

    def __str__(self) -> str:
        return f"{self.analysed_on} {self.get_kind_display()} {self.username}"
