"""Reference data and the change events every register service records."""

from django.conf import settings
from django.db import models

from .validators import validate_lg_code
from .visibility import for_persons


class Municipality(models.Model):
    """市区町村 (or 都道府県): one row per 地方公共団体コード. 本籍 and addresses outside the ward name one of these."""

    class Kind(models.TextChoices):
        PREFECTURE = "prefecture", "都道府県"
        CITY = "city", "市"
        DESIGNATED_CITY = "designated_city", "政令指定都市"
        SPECIAL_WARD = "special_ward", "特別区"
        ADMINISTRATIVE_WARD = "administrative_ward", "行政区"
        TOWN = "town", "町"
        VILLAGE = "village", "村"

    code = models.CharField("地方公共団体コード", max_length=6, primary_key=True, validators=[validate_lg_code])
    prefecture_name = models.CharField("都道府県名", max_length=10)
    name = models.CharField("市区町村名", max_length=40, blank=True, help_text="都道府県の行では空欄")
    name_kana = models.CharField("市区町村名カナ", max_length=80, blank=True)
    kind = models.CharField("種別", max_length=20, choices=Kind.choices)
    is_active = models.BooleanField("現存", default=True, help_text="合併などで消滅した団体は偽")

    class Meta:
        verbose_name = "地方公共団体"
        verbose_name_plural = "地方公共団体"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.full_name}（{self.code}）"

    @property
    def full_name(self) -> str:
        return f"{self.prefecture_name}{self.name}"


class ChangeEvent(models.Model):
    """変更イベント: one committed change to a register, recorded in the same transaction as the change.

    It is the hook for statutory notifications (住民票記載事項通知, 附票記載事項通知, 本籍転属通知, 附票本人確認情報 …):
    the router reads these and writes the notices they cause. `payload` holds the items a notice needs, before
    and after the change; it never leaves the database except inside a signed and encrypted notice.
    """

    class Kind(models.TextChoices):
        RESIDENT_ENTERED = "resident.entered", "住民票の記載"
        RESIDENT_REMOVED = "resident.removed", "住民票の消除"
        RESIDENT_AMENDED = "resident.amended", "住民票の修正"
        HOUSEHOLD_CHANGED = "household.changed", "世帯の変更"
        FUHYO_ENTERED = "fuhyo.entered", "附票の記載"
        FUHYO_REMOVED = "fuhyo.removed", "附票の消除"
        FUHYO_AMENDED = "fuhyo.amended", "附票の修正"
        FUHYO_UNMATCHED = "fuhyo.unmatched", "附票の照合不一致"
        KOSEKI_FILED = "koseki.filed", "戸籍届出の受付"
        KOSEKI_OPENED = "koseki.opened", "戸籍の編製"
        KOSEKI_CLOSED = "koseki.closed", "戸籍の除籍"

    kind = models.CharField("種別", max_length=32, choices=Kind.choices, db_index=True)
    occurred_at = models.DateTimeField("記録日時", auto_now_add=True)
    change_group = models.UUIDField("異動番号", db_index=True, help_text="同じ届出・同じ操作で起きた変更に共通")
    reason = models.CharField("事由", max_length=40)
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
    koseki = models.ForeignKey(
        "koseki_fuhyo.Koseki", verbose_name="戸籍", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    filing = models.ForeignKey(
        "koseki_fuhyo.KosekiFiling",
        verbose_name="戸籍届出",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    payload = models.JSONField("内容", default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField("経路", max_length=80)
    request_id = models.CharField("要求ID", max_length=64)
    routed_at = models.DateTimeField("通知振分日時", null=True, blank=True)

    objects = for_persons(
        ("resident__", "registry.Resident"),
        ("fuhyo_entry__", "koseki_fuhyo.FuhyoEntry"),
        through=(("filing__persons", "koseki_fuhyo.FilingPerson"),),
    ).as_manager()

    class Meta:
        verbose_name = "変更イベント"
        verbose_name_plural = "変更イベント"
        ordering = ["id"]
        indexes = [
            # The notification router (transfers) reads the events it has not routed yet, oldest first.
            models.Index(fields=["id"], condition=models.Q(routed_at__isnull=True), name="changeevent_unrouted"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
