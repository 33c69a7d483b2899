"""Change history (django-auditlog) for every model of the 住民基本台帳."""

from auditlog.registry import auditlog

from .models import Household, Resident, ResidentChange

auditlog.register(Household)
auditlog.register(Resident)
auditlog.register(ResidentChange)
