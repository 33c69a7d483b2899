"""Differences between the 住民票 and the 附票 found by the nightly reconciliation: tasks for clerks."""

from django.conf import settings
from django.db import models

from common.validators import validate_juminhyo_code


class RegisterDiscrepancy(models.Model):
    """照合の不一致: a person whose 本籍 and 住所 are both in the ward, and whose 住民票 and 附票 disagree.

    Found by `reconcile_registers`; open until a clerk resolves it (after correcting one register through the
    services, or recording why nothing is to be done). Re-running the reconciliation does not duplicate an open task."""

    class State(models.TextChoices):
        OPEN = "open", "未処理"
        RESOLVED = "resolved", "処理済"

    juminhyo_code = models.CharField("住民票コード", max_length=11, db_index=True, validators=[validate_juminhyo_code])
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
    differences = models.JSONField("相違点", default=list)
    found_on = models.DateField("検出日")
    state = models.CharField("状態", max_length=20, choices=State.choices, default=State.OPEN)
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

    class Meta:
        verbose_name = "住民票と附票の不一致"
        verbose_name_plural = "住民票と附票の不一致"
        ordering = ["-found_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["juminhyo_code"], condition=models.Q(state="open"), name="one_open_discrepancy_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"不一致 #{self.pk}（{self.get_state_display()}）"
