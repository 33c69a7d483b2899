from django.db import models

from ..choices import ResidentStatus
from ..relationships import HEAD


class Household(models.Model):
    """世帯: the people who live together and share a livelihood, at one address in the ward, under one 世帯主.

    The 世帯主 is the member whose 続柄 is 世帯主 (a constraint on Resident allows at most one). A 世帯 whose head
    died or moved out may be without one (世帯主不在) until a 世帯主変更 is recorded.
    """

    number = models.CharField("世帯番号", max_length=10, unique=True)
    address = models.CharField("住所", max_length=200, help_text="区名より後（町名・丁目・番地・号）")
    katagaki = models.CharField("方書", max_length=100, blank=True)
    formed_on = models.DateField("世帯を設けた年月日")
    dissolved_on = models.DateField("世帯消滅年月日", null=True, blank=True)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = "世帯"
        verbose_name_plural = "世帯"
        ordering = ["number"]

    def __str__(self) -> str:
        return f"世帯 {self.number}"

    @property
    def is_active(self) -> bool:
        return self.dissolved_on is None

    @property
    def head(self):
        return self.members.filter(relationship=HEAD, status=ResidentStatus.CURRENT).first()

    def current_members(self):
        return self.members.filter(status=ResidentStatus.CURRENT).order_by("id")
