"""閲覧制限 (DV等支援措置 or a supervisor's restriction) and the exceptional grants that open a restricted record."""

from django.conf import settings
from django.db import models

from common.validators import validate_juminhyo_code
from common.visibility import for_persons


class AccessRestriction(models.Model):
    """One restriction on one person. While any is active, the person's 住民票 and 附票 rows carry
    `access_restricted`: they are masked in every list and answer 404 to everyone without a grant. One flag, set on
    both registers by the same service, so that it cannot be set in one and forgotten in the other."""

    class Kind(models.TextChoices):
        DV_SUPPORT = "dv_support", "DV等支援措置"
        PROVISIONAL_DV_SUPPORT = "provisional_dv_support", "仮支援措置"
        SUPERVISOR = "supervisor", "監督者による閲覧制限"

    juminhyo_code = models.CharField(
        "住民票コード", max_length=11, blank=True, db_index=True, validators=[validate_juminhyo_code]
    )
    resident = models.ForeignKey(
        "registry.Resident",
        verbose_name="住民票",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="restrictions",
    )
    fuhyo_entry = models.ForeignKey(
        "koseki_fuhyo.FuhyoEntry",
        verbose_name="附票記載",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="restrictions",
    )
    identity_key = models.CharField(
        "本人の特定事項",
        max_length=120,
        blank=True,
        db_index=True,
        help_text="氏名と生年月日（住民票コードのない人の記録にも制限が及ぶように）",
    )
    kind = models.CharField("種別", max_length=30, choices=Kind.choices)
    reason = models.CharField("理由", max_length=300)
    starts_on = models.DateField("開始日")
    ends_on = models.DateField("終了予定日", null=True, blank=True, help_text="到来しても自動では解除しない")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="設定者", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("設定日時", auto_now_add=True)
    lifted_at = models.DateTimeField("解除日時", null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="解除者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lift_reason = models.CharField("解除理由", max_length=300, blank=True)

    # Names the restricted person (住民票コード, 氏名・生年月日): .visible_to(user) outside the supervisor's screens.
    objects = for_persons(
        ("resident__", "registry.Resident"), ("fuhyo_entry__", "koseki_fuhyo.FuhyoEntry")
    ).as_manager()

    class Meta:
        verbose_name = "閲覧制限"
        verbose_name_plural = "閲覧制限"
        ordering = ["-created_at"]
        permissions = [("manage_restriction", "閲覧制限の設定・解除、個別許可の付与・取消")]

    def __str__(self) -> str:
        return f"閲覧制限 #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class AccessGrant(models.Model):
    """An exception: one clerk may open one restricted person's record, for a reason, until an expiry. The guardian
    object permission is the check; this row is its reason, its expiry and its history."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="許可を受けた職員",
        on_delete=models.PROTECT,
        related_name="access_grants",
    )
    resident = models.ForeignKey(
        "registry.Resident",
        verbose_name="住民票",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_grants",
    )
    fuhyo_entry = models.ForeignKey(
        "koseki_fuhyo.FuhyoEntry",
        verbose_name="附票記載",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_grants",
    )
    reason = models.CharField("理由", max_length=300)
    expires_at = models.DateTimeField("有効期限")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="許可者", on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField("許可日時", auto_now_add=True)
    revoked_at = models.DateTimeField("取消日時", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="取消者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoke_reason = models.CharField("取消理由", max_length=300, blank=True)

    # Names the restricted person: .visible_to(user) for lists outside the supervisor's screens.
    objects = for_persons(
        ("resident__", "registry.Resident"), ("fuhyo_entry__", "koseki_fuhyo.FuhyoEntry")
    ).as_manager()

    class Meta:
        verbose_name = "個別許可"
        verbose_name_plural = "個別許可"
        ordering = ["-granted_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(resident__isnull=False) | models.Q(fuhyo_entry__isnull=False),
                name="audit_grant_has_subject",
            )
        ]
        indexes = [
            # The gate looks up the active grant of one user for one person.
            models.Index(
                fields=["user", "resident"],
                condition=models.Q(revoked_at__isnull=True),
                name="audit_grant_active_resident",
            ),
            models.Index(
                fields=["user", "fuhyo_entry"],
                condition=models.Q(revoked_at__isnull=True),
                name="audit_grant_active_fuhyo",
            ),
        ]

    def __str__(self) -> str:
        return f"個別許可 #{self.pk}"
