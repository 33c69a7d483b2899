"""The clerk's desk: 排他制御 (who is editing which 住民票 or 世帯 right now) and the used submission keys."""

from django.conf import settings
from django.db import models

from common.idempotency import UsedTokenBase


class EditLock(models.Model):
    """排他制御: while a clerk has an 異動 or 届出 open for a 住民票 (or a 世帯), no other clerk may start one for it.

    One row per locked record (a unique constraint), taken by the first POST of the screen (opening it takes none),
    renewed on every step, removed when the change is recorded or cancelled; a row whose `expires_at` has passed no
    longer counts and is taken over by the next clerk (registry.locks).
    """

    class Subject(models.TextChoices):
        RESIDENT = "resident", "住民票"
        HOUSEHOLD = "household", "世帯"

    subject_kind = models.CharField("対象の種類", max_length=20, choices=Subject.choices)
    subject_id = models.PositiveBigIntegerField("対象の記録ID")
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="編集中の職員", on_delete=models.CASCADE, related_name="+"
    )
    screen = models.CharField("画面", max_length=80, blank=True)
    acquired_at = models.DateTimeField("編集開始")
    expires_at = models.DateTimeField("有効期限")

    class Meta:
        verbose_name = "編集中の印（排他制御）"
        verbose_name_plural = "編集中の印（排他制御）"
        ordering = ["-acquired_at"]
        constraints = [
            models.UniqueConstraint(fields=["subject_kind", "subject_id"], name="registry_editlock_one_per_subject"),
        ]
        # 編集中の一覧 (/changes/locks/) is for supervisors: who edits what, and since when, is about the clerks.
        permissions = [("view_lock_list", "編集中の一覧（排他制御）を見る")]

    def __str__(self) -> str:
        return f"{self.get_subject_kind_display()} #{self.subject_id} の編集"


class UsedSubmissionToken(UsedTokenBase):
    """使用済みの送信キー (common.idempotency): one row per input recorded through a 確認 screen (common.confirm): an
    異動 or 届出, and a supervisor's action or a notice's 処理."""

    class Meta(UsedTokenBase.Meta):
        abstract = False
        verbose_name = "使用済みの送信キー"
        verbose_name_plural = "使用済みの送信キー"
        ordering = ["-used_at"]
