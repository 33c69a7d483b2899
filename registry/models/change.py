from django.conf import settings
from django.db import models

from common.visibility import for_persons

from ..choices import ChangeClass, ChangeReason


class ResidentChange(models.Model):
    """異動履歴: one 異動 of one person, written by the service that made it, in the same transaction.

    Several persons moving under one 届出 share a `change_group` (異動番号). Addresses and names are kept as text
    snapshots: history shows what was true then, whatever happens to the 世帯 later.
    """

    resident = models.ForeignKey(
        "registry.Resident", verbose_name="住民票", on_delete=models.PROTECT, related_name="changes"
    )
    change_group = models.UUIDField("異動番号", db_index=True)
    reason = models.CharField("異動事由", max_length=32, choices=ChangeReason.choices)
    change_class = models.CharField("異動区分", max_length=10, choices=ChangeClass.choices)
    change_date = models.DateField("異動年月日")
    notified_on = models.DateField("届出年月日", null=True, blank=True, help_text="職権による異動では空欄")
    previous_address = models.CharField("今までの住所", max_length=300, blank=True)
    new_address = models.CharField("新しい住所", max_length=300, blank=True)
    previous_head_name = models.CharField("今までの世帯主", max_length=61, blank=True)
    new_head_name = models.CharField("新しい世帯主", max_length=61, blank=True)
    previous_household_number = models.CharField("今までの世帯番号", max_length=10, blank=True)
    new_household_number = models.CharField("新しい世帯番号", max_length=10, blank=True)
    details = models.JSONField("修正内容", default=dict, blank=True, help_text="項目ごとの修正前・修正後")
    filing = models.ForeignKey(
        "koseki_fuhyo.KosekiFiling",
        verbose_name="戸籍届出",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resident_changes",
    )
    note = models.CharField("備考", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="記録者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField("経路", max_length=80)
    request_id = models.CharField("要求ID", max_length=64)
    recorded_at = models.DateTimeField("記録日時", auto_now_add=True)

    objects = for_persons(("resident__", "registry.Resident")).as_manager()

    class Meta:
        verbose_name = "異動履歴"
        verbose_name_plural = "異動履歴"
        ordering = ["resident", "id"]
        indexes = [models.Index(fields=["resident", "-id"], name="registry_change_resident_idx")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.change_date:%Y-%m-%d}"
