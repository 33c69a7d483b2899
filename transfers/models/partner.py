"""通信相手: the municipalities (and J-LIS) this ward may exchange notices with, their public keys and transport."""

from django.db import models

from common.validators import validate_partner_code


class Partner(models.Model):
    """通信相手. Only partners in this table are sent to or accepted from (特定相手以外との通信不可).

    `sign_public` verifies the partner's signatures (Ed25519); `box_public` is what we encrypt for it (X25519). Both are
    the raw 32-byte keys in base64, as `export_public_key` writes them. `failing_since` and `paused_until` form a
    circuit breaker: a partner that keeps failing is tried less often and never holds up the others."""

    class Transport(models.TextChoices):
        HTTP = "http", "HTTP（インスタンス間・模擬相手）"
        SPOOL = "spool", "スプールディレクトリ（CS 連携）"

    code = models.CharField(
        "団体コード",
        max_length=10,
        unique=True,
        help_text="地方公共団体コード、または J-LIS",
        validators=[validate_partner_code],
    )
    name = models.CharField("名称", max_length=80)
    transport = models.CharField("送受信方式", max_length=10, choices=Transport.choices, default=Transport.HTTP)
    endpoint = models.URLField("送信先URL", blank=True, help_text="HTTP のとき: 相手の受信口（…/transfers/inbound/）")
    spool_dir = models.CharField("スプールディレクトリ", max_length=500, blank=True, help_text="スプールのとき")
    sign_public = models.CharField("署名検証鍵（Ed25519, base64）", max_length=64)
    box_public = models.CharField("暗号化鍵（X25519, base64）", max_length=64)
    is_active = models.BooleanField("有効", default=True)
    consecutive_failures = models.PositiveIntegerField("連続失敗回数", default=0)
    paused_until = models.DateTimeField("送信休止の期限", null=True, blank=True)
    created_at = models.DateTimeField("登録日時", auto_now_add=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = "通信相手"
        verbose_name_plural = "通信相手"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"
