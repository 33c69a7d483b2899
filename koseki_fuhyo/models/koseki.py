from django.db import models

from common.validators import validate_name_part
from common.visibility import for_persons

from ..choices import KosekiStatus


class Koseki(models.Model):
    """戸籍: a family register whose 本籍 is in this ward, named by its 本籍 and 筆頭者.

    The 戸籍 itself (身分事項) is kept by the 戸籍情報システム; this row carries what the 附票 and the notices need. Its
    戸籍の附票 is the set of its FuhyoEntry rows. A 戸籍 from which every member has left, or that moved away by 転籍,
    is 除籍 (closed); its 附票 becomes a 除附票, kept 150 years.
    """

    honseki_address = models.CharField("本籍（地番）", max_length=200, help_text="区名より後")
    hittousha_surname = models.CharField("筆頭者の氏", max_length=30, validators=[validate_name_part])
    hittousha_given_name = models.CharField("筆頭者の名", max_length=30, validators=[validate_name_part])
    status = models.CharField("状態", max_length=10, choices=KosekiStatus.choices, default=KosekiStatus.CURRENT)
    formed_on = models.DateField("編製日")
    formed_reason = models.CharField("編製事由", max_length=40)
    closed_on = models.DateField("除籍日", null=True, blank=True)
    closed_reason = models.CharField("除籍事由", max_length=40, blank=True)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    # A 戸籍 shows its members (and names its 筆頭者): hidden where one of them is restricted for the user.
    objects = for_persons(through=(("entries", "koseki_fuhyo.FuhyoEntry"),)).as_manager()

    class Meta:
        verbose_name = "戸籍"
        verbose_name_plural = "戸籍"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["honseki_address"], name="koseki_honseki_idx"),
            models.Index(fields=["hittousha_surname", "hittousha_given_name"], name="koseki_hittousha_idx"),
        ]

    def __str__(self) -> str:
        return f"戸籍 #{self.pk}"

    @property
    def hittousha_name(self) -> str:
        return f"{self.hittousha_surname}　{self.hittousha_given_name}"

    @property
    def is_current(self) -> bool:
        return self.status == KosekiStatus.CURRENT
