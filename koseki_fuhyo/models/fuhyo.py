from django.apps import apps
from django.db import models

from common.models import Municipality
from common.validators import validate_juminhyo_code, validate_katakana, validate_name_part
from common.visibility import VisibleToQuerySet, for_persons
from registry.choices import Sex

from ..choices import EntryStatus


class FuhyoEntry(models.Model):
    """One person's part of a 戸籍の附票: the person as written in the 戸籍, and (through FuhyoAddress) every address
    the person has had while in this 戸籍. 「在籍」 while the person is in the 戸籍;
    「消除」 after 死亡, 婚姻による除籍,
    転籍 and the like. The 情報提供用個人識別符号 is a secret: never shown unmasked, never logged, never exported."""

    koseki = models.ForeignKey(
        "koseki_fuhyo.Koseki", verbose_name="戸籍", on_delete=models.PROTECT, related_name="entries"
    )
    position = models.PositiveSmallIntegerField("記載順")
    surname = models.CharField("氏", max_length=30, validators=[validate_name_part])
    given_name = models.CharField("名", max_length=30, validators=[validate_name_part])
    surname_kana = models.CharField("氏（カナ）", max_length=60, validators=[validate_katakana])
    given_name_kana = models.CharField("名（カナ）", max_length=60, validators=[validate_katakana])
    birth_date = models.DateField("生年月日")
    sex = models.CharField("性別", max_length=1, choices=Sex.choices)
    juminhyo_code = models.CharField("住民票コード", max_length=11, blank=True, validators=[validate_juminhyo_code])

    status = models.CharField("状態", max_length=10, choices=EntryStatus.choices, default=EntryStatus.CURRENT)
    access_restricted = models.BooleanField(
        "閲覧制限",
        default=False,
        db_default=False,
        help_text="DV等支援措置または監督者の指定。許可を受けた職員だけが開ける（audit.restrictions）",
    )
    entered_on = models.DateField("記載日")
    entered_reason = models.CharField("記載事由", max_length=40)
    removed_on = models.DateField("消除日", null=True, blank=True)
    removed_reason = models.CharField("消除事由", max_length=40, blank=True)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    objects = VisibleToQuerySet.as_manager()  # .visible_to(user): the one visibility rule (audit.visibility)

    class Meta:
        verbose_name = "附票記載"
        verbose_name_plural = "附票記載"
        ordering = ["koseki", "position"]
        permissions = [("view_restricted_fuhyoentry", "閲覧制限対象者の附票の閲覧（個別許可）")]
        constraints = [
            models.UniqueConstraint(fields=["koseki", "position"], name="fuhyo_entry_unique_position"),
            models.UniqueConstraint(
                fields=["juminhyo_code"],
                condition=models.Q(status=EntryStatus.CURRENT) & ~models.Q(juminhyo_code=""),
                name="fuhyo_entry_unique_current_code",
                violation_error_message="この住民票コードの人はすでに在籍しています。",
            ),
        ]
        indexes = [
            models.Index(fields=["juminhyo_code"], name="fuhyo_entry_code_idx"),
            models.Index(fields=["surname_kana", "given_name_kana"], name="fuhyo_entry_kana_idx"),
            # audit.visibility: the few restricted rows, read before every search and list.
            models.Index(fields=["id"], condition=models.Q(access_restricted=True), name="fuhyo_entry_restricted_idx"),
        ]

    def __str__(self) -> str:
        return f"附票記載 #{self.pk}"

    @property
    def name(self) -> str:
        return f"{self.surname}　{self.given_name}"

    @property
    def name_kana(self) -> str:
        return f"{self.surname_kana}　{self.given_name_kana}"

    @property
    def is_current(self) -> bool:
        return self.status == EntryStatus.CURRENT

    @property
    def masked_info_provision_code(self) -> str:
        """The 情報提供用個人識別符号 J-LIS issued for this person, masked (it is stored once, per 住民票コード, in
        transfers.IdentifierSymbol; never shown in clear and never logged)."""
        symbols = apps.get_model("transfers", "IdentifierSymbol").objects
        symbol = symbols.filter(juminhyo_code=self.juminhyo_code).first() if self.juminhyo_code else None
        return symbol.masked if symbol else "（未取得）"

    def current_address(self):
        return self.addresses.filter(is_current=True).select_related("municipality").first()


class FuhyoAddress(models.Model):
    """A line of the 附票's address history: 住所 (or 国外転出 with the country), 住所を定めた年月日,
    記録日 and 事由."""

    entry = models.ForeignKey(FuhyoEntry, verbose_name="附票記載", on_delete=models.PROTECT, related_name="addresses")
    municipality = models.ForeignKey(
        Municipality, verbose_name="住所（市区町村）", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField("住所", max_length=300, blank=True, help_text="市区町村名より後")
    is_abroad = models.BooleanField("国外転出", default=False)
    country = models.CharField("国名", max_length=60, blank=True)
    established_on = models.DateField("住所を定めた年月日", help_text="国外転出のときは国外転出年月日")
    recorded_on = models.DateField("記録日")
    reason = models.CharField("事由", max_length=40)
    is_current = models.BooleanField("現住所", default=True)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)

    objects = for_persons(("entry__", "koseki_fuhyo.FuhyoEntry")).as_manager()

    class Meta:
        verbose_name = "附票の住所"
        verbose_name_plural = "附票の住所"
        ordering = ["entry", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry"], condition=models.Q(is_current=True), name="fuhyo_address_one_current"
            ),
            models.CheckConstraint(
                condition=models.Q(is_abroad=True) | models.Q(municipality__isnull=False),
                name="fuhyo_address_has_municipality",
            ),
        ]

    def __str__(self) -> str:
        return f"附票の住所 #{self.pk}"

    @property
    def display(self) -> str:
        if self.is_abroad:
            return f"国外転出（{self.country}）" if self.country else "国外転出"
        return f"{self.municipality.full_name}{self.address}"
