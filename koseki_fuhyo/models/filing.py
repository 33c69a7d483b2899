import uuid

from django.conf import settings
from django.db import models

from common.models import Municipality
from common.validators import validate_juminhyo_code
from common.visibility import for_persons
from registry.choices import Sex

from ..choices import FilingKind, FilingPersonRole, FilingStatus, WardRole


class KosekiFiling(models.Model):
    """戸籍届出: a 届書 handed in at a counter of this ward (or a 職権 戸籍記載), and what it changed.

    届出日 is the day the 届書 was handed in (even at the night counter); 受理日 and 戸籍記載日 follow it.
    """

    kind = models.CharField("届出事件", max_length=40, choices=FilingKind.choices)
    filed_on = models.DateField("届出日")
    accepted_on = models.DateField("受理日")
    recorded_on = models.DateField("戸籍記載日", null=True, blank=True)
    received_at = models.ForeignKey(Municipality, verbose_name="受理地", on_delete=models.PROTECT, related_name="+")
    ward_role = models.CharField("区の立場", max_length=20, choices=WardRole.choices)
    status = models.CharField("状態", max_length=10, choices=FilingStatus.choices, default=FilingStatus.ACCEPTED)
    details = models.JSONField("届出の内容", default=dict, blank=True)
    note = models.CharField("備考", max_length=200, blank=True)
    change_group = models.UUIDField("異動番号", default=uuid.uuid4, editable=False, db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="受付者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("作成日時", auto_now_add=True)

    class Meta:
        verbose_name = "戸籍届出"
        verbose_name_plural = "戸籍届出"
        ordering = ["-filed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}届 #{self.pk}"


class FilingPerson(models.Model):
    """A person a 戸籍届出 concerns, as written on the 届書, linked to our registers where the person is in them."""

    filing = models.ForeignKey(KosekiFiling, verbose_name="戸籍届出", on_delete=models.PROTECT, related_name="persons")
    role = models.CharField("立場", max_length=20, choices=FilingPersonRole.choices)
    surname = models.CharField("氏", max_length=30)
    given_name = models.CharField("名", max_length=30)
    birth_date = models.DateField("生年月日", null=True, blank=True)
    sex = models.CharField("性別", max_length=1, choices=Sex.choices, blank=True)
    juminhyo_code = models.CharField("住民票コード", max_length=11, blank=True, validators=[validate_juminhyo_code])
    address_municipality = models.ForeignKey(
        Municipality,
        verbose_name="住所（市区町村）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="届書に書かれた住所の市区町村（住民票記載事項通知の宛先）",
    )
    address = models.CharField("住所", max_length=300, blank=True)
    fuhyo_entry = models.ForeignKey(
        "koseki_fuhyo.FuhyoEntry",
        verbose_name="附票記載",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="filings",
    )
    resident = models.ForeignKey(
        "registry.Resident",
        verbose_name="住民票",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="filings",
    )

    objects = for_persons(
        ("fuhyo_entry__", "koseki_fuhyo.FuhyoEntry"), ("resident__", "registry.Resident")
    ).as_manager()

    class Meta:
        verbose_name = "届出の関係者"
        verbose_name_plural = "届出の関係者"
        ordering = ["filing", "id"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} #{self.pk}"
