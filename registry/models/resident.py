from django.core.exceptions import ValidationError
from django.db import models

from common.models import Municipality
from common.validators import validate_juminhyo_code, validate_katakana, validate_name_part
from common.visibility import VisibleToQuerySet

from .. import addresses
from ..choices import ChangeReason, ResidentStatus, Sex
from ..guards import RemovedRecordError, correction_in_progress
from ..relationships import HEAD, validate_relationship


class Resident(models.Model):
    """住民票: one person's record in the 住民基本台帳. 「現存」 while the person lives in the ward; once removed
    (転出, 死亡, 職権消除) it is a 「除票」, kept 150 years and changed only by statutory corrections."""

    juminhyo_code = models.CharField("住民票コード", max_length=11, validators=[validate_juminhyo_code])
    surname = models.CharField("氏", max_length=30, validators=[validate_name_part])
    given_name = models.CharField("名", max_length=30, validators=[validate_name_part])
    surname_kana = models.CharField("氏（カナ）", max_length=60, validators=[validate_katakana])
    given_name_kana = models.CharField("名（カナ）", max_length=60, validators=[validate_katakana])
    birth_date = models.DateField("生年月日")
    sex = models.CharField("性別", max_length=1, choices=Sex.choices)

    household = models.ForeignKey(
        "registry.Household", verbose_name="世帯", on_delete=models.PROTECT, related_name="members"
    )
    relationship = models.CharField("続柄", max_length=40, validators=[validate_relationship])

    address = models.CharField("住所", max_length=200, help_text="区名より後（町名・丁目・番地・号）")
    katagaki = models.CharField("方書", max_length=100, blank=True)
    address_established_on = models.DateField("住所を定めた年月日")
    became_resident_on = models.DateField("住民となった年月日")

    honseki_municipality = models.ForeignKey(
        Municipality,
        verbose_name="本籍（市区町村）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="空欄は本籍不明",
    )
    honseki_address = models.CharField("本籍（地番）", max_length=200, blank=True)
    hittousha_name = models.CharField("筆頭者の氏名", max_length=61, blank=True)

    previous_municipality = models.ForeignKey(
        Municipality,
        verbose_name="従前の住所（市区町村）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    previous_address = models.CharField("従前の住所", max_length=300, blank=True)

    status = models.CharField("状態", max_length=10, choices=ResidentStatus.choices, default=ResidentStatus.CURRENT)
    removed_on = models.DateField("消除年月日", null=True, blank=True)
    removal_reason = models.CharField("消除事由", max_length=32, choices=ChangeReason.choices, blank=True)
    moved_to_municipality = models.ForeignKey(
        Municipality,
        verbose_name="転出先（市区町村）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    moved_to_address = models.CharField("転出先住所", max_length=300, blank=True)
    moved_to_country = models.CharField("転出先国名", max_length=60, blank=True)
    move_out_confirmed_on = models.DateField("転出年月日（確定）", null=True, blank=True)
    move_out_confirmed_address = models.CharField("転出先住所（確定）", max_length=300, blank=True)
    move_in_notice_received_on = models.DateField("転入通知受理日", null=True, blank=True)

    access_restricted = models.BooleanField(
        "閲覧制限",
        default=False,
        db_default=False,
        help_text="DV等支援措置または監督者の指定。許可を受けた職員だけが開ける（audit.restrictions）",
    )

    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    objects = VisibleToQuerySet.as_manager()  # .visible_to(user): the one visibility rule (audit.visibility)

    class Meta:
        verbose_name = "住民票"
        verbose_name_plural = "住民票"
        ordering = ["id"]
        permissions = [("view_restricted_resident", "閲覧制限対象者の住民票の閲覧（個別許可）")]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(relationship=HEAD, status=ResidentStatus.CURRENT),
                name="registry_one_head_per_household",
                violation_error_message="一つの世帯に世帯主は一人です。",
            ),
            models.UniqueConstraint(
                fields=["juminhyo_code"],
                condition=models.Q(status=ResidentStatus.CURRENT),
                name="registry_unique_current_juminhyo_code",
                violation_error_message="この住民票コードの住民票がすでにあります。",
            ),
            models.CheckConstraint(
                condition=models.Q(status=ResidentStatus.CURRENT, removed_on__isnull=True)
                | models.Q(status=ResidentStatus.REMOVED, removed_on__isnull=False),
                name="registry_removed_has_date",
                violation_error_message="除票には消除年月日が必要です。",
            ),
        ]
        indexes = [
            models.Index(fields=["juminhyo_code"], name="registry_resident_code_idx"),
            models.Index(fields=["surname_kana", "given_name_kana"], name="registry_resident_kana_idx"),
            models.Index(fields=["birth_date"], name="registry_resident_birth_idx"),
            # audit.visibility: every search and list first reads the few restricted rows (masked_for / hidden ids).
            models.Index(fields=["id"], condition=models.Q(access_restricted=True), name="registry_resident_restr_idx"),
        ]

    def __str__(self) -> str:
        return f"住民票 #{self.pk}"  # never the name: str() ends up in logs

    @property
    def name(self) -> str:
        return f"{self.surname}　{self.given_name}"

    @property
    def name_kana(self) -> str:
        return f"{self.surname_kana}　{self.given_name_kana}"

    @property
    def previous_address_text(self) -> str:
        return addresses.previous_address_text(self.previous_municipality, self.previous_address)

    @property
    def is_current(self) -> bool:
        return self.status == ResidentStatus.CURRENT

    def clean(self) -> None:
        if self.birth_date and self.address_established_on and self.birth_date > self.address_established_on:
            raise ValidationError({"address_established_on": "住所を定めた年月日が生年月日より前です。"})
        if self.birth_date and self.became_resident_on and self.birth_date > self.became_resident_on:
            raise ValidationError({"became_resident_on": "住民となった年月日が生年月日より前です。"})

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and correction_in_progress() is None:
            stored_status = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored_status == ResidentStatus.REMOVED:
                raise RemovedRecordError(
                    "除票は変更できません（職権修正・転入通知による記載を除く）。", code="removed_record"
                )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RemovedRecordError("住民票は削除できません。消除の手続をしてください。", code="no_delete")
