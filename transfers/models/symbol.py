"""情報提供用個人識別符号 returned by J-LIS: stored, shown only masked, never written to a log or a notice."""

from django.db import models

from common.validators import validate_juminhyo_code


class IdentifierSymbol(models.Model):
    """情報提供用個人識別符号（機関別符号）, one per 住民票コード, as J-LIS returned it in an acknowledgement."""

    juminhyo_code = models.CharField("住民票コード", max_length=11, unique=True, validators=[validate_juminhyo_code])
    symbol = models.CharField("情報提供用個人識別符号", max_length=64)
    issued_at = models.DateTimeField("受領日時", auto_now_add=True)
    message_id = models.UUIDField("受領した通知ID", help_text="符号を返した応答が答えた通知")

    class Meta:
        verbose_name = "情報提供用個人識別符号"
        verbose_name_plural = "情報提供用個人識別符号"

    def __str__(self) -> str:
        return f"符号（{self.juminhyo_code[:3]}…）"

    @property
    def masked(self) -> str:
        """What a screen may show: the last four characters only."""
        return "＊" * 8 + self.symbol[-4:]
