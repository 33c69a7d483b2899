"""Change history (django-auditlog) for every model of the 戸籍・附票. The 情報提供用個人識別符号 is never logged."""

from auditlog.registry import auditlog

from .models import FilingPerson, FuhyoAddress, FuhyoEntry, Koseki, KosekiFiling

auditlog.register(Koseki)
auditlog.register(FuhyoEntry)
auditlog.register(FuhyoAddress)
auditlog.register(KosekiFiling)
auditlog.register(FilingPerson)
