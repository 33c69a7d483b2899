"""The nightly batch's own records: one row per run of a command, erasure records, and the daily chain seals."""

from django.conf import settings
from django.db import models


class BatchRun(models.Model):
    """バッチの実行記録: which command ran, when, by whom (or beat), with which result and summary line."""

    class Status(models.TextChoices):
        RUNNING = "running", "実行中"
        SUCCEEDED = "succeeded", "正常終了"
        FAILED = "failed", "異常終了"

    command = models.CharField("コマンド", max_length=60, db_index=True)
    started_at = models.DateTimeField("開始", auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField("終了", null=True, blank=True)
    status = models.CharField("状態", max_length=20, choices=Status.choices, default=Status.RUNNING)
    exit_code = models.SmallIntegerField("終了コード", null=True, blank=True)
    dry_run = models.BooleanField("試行（変更なし）", default=False)
    source = models.CharField("起動元", max_length=40, help_text="command（端末）/ task（beat）")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="実行者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    arguments = models.JSONField("引数", default=dict, blank=True)
    summary = models.CharField("要約", max_length=500, blank=True)
    counts = models.JSONField("件数", default=dict, blank=True)

    class Meta:
        verbose_name = "バッチの実行記録"
        verbose_name_plural = "バッチの実行記録"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.command} {self.started_at:%Y-%m-%d %H:%M}"


class ErasureRecord(models.Model):
    """消去の記録: what a purge removed under which retention rule — the 消去報告書 is printed from these rows."""

    run = models.ForeignKey(BatchRun, verbose_name="実行記録", on_delete=models.PROTECT, related_name="erasures")
    target = models.CharField("対象", max_length=60, help_text="例: 住民票の除票、通知の内容")
    rule = models.CharField("保存期間の規則", max_length=200)
    cutoff = models.DateField("この日より前のもの")
    count = models.PositiveIntegerField("件数")
    digest = models.CharField("消去した記録のハッシュ（SHA-256）", max_length=64)
    performed_at = models.DateTimeField("消去日時", auto_now_add=True)
    details = models.JSONField("内容", default=dict, blank=True)

    class Meta:
        verbose_name = "消去の記録"
        verbose_name_plural = "消去の記録"
        ordering = ["-performed_at"]

    def __str__(self) -> str:
        return f"{self.target} {self.count}件 ({self.performed_at:%Y-%m-%d})"


class ChainSeal(models.Model):
    """監査ログの日次封印: the chain head at the end of a day, signed with the ward's key and also written to a file
    outside the database, so that rewriting old rows is caught even by someone who owns the database."""

    sealed_on = models.DateField("対象日", unique=True)
    last_entry_id = models.BigIntegerField("最終ID")
    last_hash = models.CharField("最終ハッシュ", max_length=64)
    entry_count = models.PositiveBigIntegerField("件数")
    lanes = models.JSONField(
        "系列ごとの末尾",
        default=dict,
        blank=True,
        help_text="系列番号 → その日の最後の記録の ID とハッシュ（形式 2 以降）",
    )
    signature = models.CharField("署名（Ed25519, base64）", max_length=100)
    file_path = models.CharField("封印ファイル", max_length=500)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)

    class Meta:
        verbose_name = "監査ログの日次封印"
        verbose_name_plural = "監査ログの日次封印"
        ordering = ["-sealed_on"]

    def __str__(self) -> str:
        return f"封印 {self.sealed_on}"
