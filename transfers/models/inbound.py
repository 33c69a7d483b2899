"""The inbox: notices received from partners, after their envelope was opened and checked."""

from django.conf import settings
from django.db import models

from common.validators import validate_juminhyo_code, validate_partner_code
from common.visibility import for_persons

from ..routing import NoticeKind


class InboundNotice(models.Model):
    """受信した通知. Only envelopes that passed every check are stored (rejections go to the audit log only).

    `message_id` is unique: a message delivered twice is stored and applied once. A notice that the product
    decisions allow to be applied automatically is `applied` in the transaction that stored it; the others `wait`
    for a clerk, with the differences found (`differences`), until the clerk resolves them (`done`). A notice whose
    sender is not entitled to say this about this person (transfers.authority) always waits, with the reason in
    `authority_refusal` (要確認)."""

    class State(models.TextChoices):
        APPLIED = "applied", "自動反映済"
        WAITING = "waiting", "処理待ち"
        DONE = "done", "処理済"

    class Resolution(models.TextChoices):
        NONE = "", "—"
        AUTO = "auto", "自動反映"
        CONFIRMED = "confirmed", "職権処理を確定"
        CHECK_SENT = "check_sent", "本籍照合通知を送信"
        CORRECTED = "corrected", "修正済"
        DISMISSED = "dismissed", "対応不要として完了"

    message_id = models.UUIDField("通知ID", unique=True)
    sender = models.CharField(
        "送信元", max_length=10, help_text="地方公共団体コード、または J-LIS", validators=[validate_partner_code]
    )
    kind = models.CharField("通知の種類", max_length=30, choices=NoticeKind.choices)
    schema_version = models.PositiveSmallIntegerField("様式の版")
    payload = models.JSONField("内容")
    payload_digest = models.CharField("内容のハッシュ", max_length=64)
    sent_at = models.DateTimeField("送信日時", help_text="封筒に記載された作成日時")
    received_at = models.DateTimeField("受信日時", auto_now_add=True)
    via = models.CharField("経路", max_length=10, help_text="http / spool")
    juminhyo_code = models.CharField(
        "住民票コード", max_length=11, blank=True, db_index=True, validators=[validate_juminhyo_code]
    )
    resident = models.ForeignKey(
        "registry.Resident", verbose_name="住民票", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fuhyo_entry = models.ForeignKey(
        "koseki_fuhyo.FuhyoEntry",
        verbose_name="附票記載",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField("状態", max_length=20, choices=State.choices, default=State.WAITING)
    differences = models.JSONField("相違点", default=list, blank=True)
    problem = models.CharField("処理待ちの理由", max_length=300, blank=True)
    authority_refusal = models.CharField(
        "送信元の権限",
        max_length=300,
        blank=True,
        help_text="送信元がこの人についてこの通知を送る立場にあると認められなかった理由（認められたときは空）。"
        "空でない通知は自動反映されず、職員の確認を待つ（transfers.authority）",
    )
    resolution = models.CharField("処理内容", max_length=20, choices=Resolution.choices, blank=True, default="")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="処理者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField("処理日時", null=True, blank=True)
    resolution_note = models.CharField("処理メモ", max_length=500, blank=True)
    change_group = models.UUIDField("異動番号", null=True, blank=True, help_text="反映した変更の異動番号")

    # The payload carries the person: .visible_to(user) (audit.visibility).
    objects = for_persons(
        ("resident__", "registry.Resident"), ("fuhyo_entry__", "koseki_fuhyo.FuhyoEntry")
    ).as_manager()

    class Meta:
        verbose_name = "受信した通知"
        verbose_name_plural = "受信した通知"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "-received_at"], name="inbox_state_time"),
            models.Index(fields=["sender", "-received_at"], name="inbox_sender_time"),
        ]
        permissions = [("resolve_inboundnotice", "受信通知の処理（職権処理の確定・本籍照合通知・修正済・完了）")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ← {self.sender} #{self.pk}"
