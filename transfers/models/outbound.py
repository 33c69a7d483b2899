"""The outbox: one row per statutory notice, written in the same transaction as the change that causes it."""

import uuid

from django.conf import settings
from django.db import models

from common.validators import validate_juminhyo_code, validate_partner_code
from common.visibility import for_persons

from ..payloads import subject_code
from ..routing import NoticeKind


class OutboundNotice(models.Model):
    """送信する通知: a notice waiting for delivery, being delivered, delivered, acknowledged, or failed.

    Written by `transfers.outbox.write_notice` (the one writer: for each routed event, and for a clerk's
    本籍照合通知) inside the service's transaction (never for a change that rolled back, never missing for one that
    committed). Delivery (transfers.delivery: envelopes, adapters, Celery) claims rows by a conditional update on
    `state`, so a row is sent by one worker at a time and acknowledged exactly once."""

    class State(models.TextChoices):
        PENDING = "pending", "送信待ち"
        SENDING = "sending", "送信中"
        SENT = "sent", "送信済（応答待ち）"
        ACKNOWLEDGED = "acknowledged", "受領確認済"
        FAILED = "failed", "送信失敗"
        UNCONNECTED = "unconnected", "送信先未接続"  # no registered partner: waits, without attempts, until one is

    message_id = models.UUIDField("通知ID", default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField("通知の種類", max_length=30, choices=NoticeKind.choices)
    receiver = models.CharField(
        "宛先", max_length=10, help_text="地方公共団体コード、または J-LIS", validators=[validate_partner_code]
    )
    schema_version = models.PositiveSmallIntegerField("様式の版", default=1)
    payload = models.JSONField("内容")
    event = models.ForeignKey(
        "common.ChangeEvent",
        verbose_name="変更イベント",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices",
        help_text="通知の原因となった変更（職員が受信通知から送る本籍照合通知では空）",
    )
    in_reply_to = models.ForeignKey(
        "transfers.InboundNotice",
        verbose_name="応答元の受信通知",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replies",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="原因となった職員",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="変更を記録した職員（空ならシステム）",
    )
    payload_digest = models.CharField("内容のハッシュ", max_length=64, blank=True)
    juminhyo_code = models.CharField(
        "住民票コード",
        max_length=11,
        blank=True,
        default="",
        validators=[validate_juminhyo_code],
        help_text="通知の本人（順序を守る単位: 同じ宛先・同じ本人の通知は古いものから）",
    )
    state = models.CharField("状態", max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField("試行回数", default=0)
    next_attempt_at = models.DateTimeField("次の試行", null=True, blank=True)
    lease_until = models.DateTimeField("処理の期限", null=True, blank=True)
    last_error = models.CharField("最後のエラー", max_length=500, blank=True)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    sent_at = models.DateTimeField("送信日時", null=True, blank=True)
    acknowledged_at = models.DateTimeField("受領確認日時", null=True, blank=True)
    resent_count = models.PositiveIntegerField("再送指示の回数", default=0)

    # The payload carries the person of the change (or of the notice answered): .visible_to(user) (audit.visibility).
    objects = for_persons(
        ("event__resident__", "registry.Resident"),
        ("event__fuhyo_entry__", "koseki_fuhyo.FuhyoEntry"),
        ("in_reply_to__resident__", "registry.Resident"),
        ("in_reply_to__fuhyo_entry__", "koseki_fuhyo.FuhyoEntry"),
        through=(("event__filing__persons", "koseki_fuhyo.FilingPerson"),),
    ).as_manager()

    class Meta:
        verbose_name = "送信する通知"
        verbose_name_plural = "送信する通知"
        ordering = ["id"]
        indexes = [
            # The sweeper and the workers look for rows to deliver, oldest first; delivered rows stay out of it.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(state__in=["pending", "sending"]),
                name="outbox_deliverable",
            ),
            models.Index(fields=["receiver", "state"], name="outbox_receiver_state"),
            # Order per receiver and person: is an older notice about the same person still unacknowledged?
            models.Index(
                fields=["receiver", "juminhyo_code", "id"],
                condition=models.Q(state__in=["pending", "sending", "sent"]),
                name="outbox_person_order",
            ),
        ]
        permissions = [("resend_outboundnotice", "送信通知の再送指示")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.receiver} #{self.pk}"

    def save(self, *args, **kwargs) -> None:
        if not self.juminhyo_code:
            self.juminhyo_code = subject_code(self.payload)
        super().save(*args, **kwargs)
