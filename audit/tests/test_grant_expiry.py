"""The nightly expiry of grants (revoke_expired_grants). The periodic analysis of the access log is
analyze_access_logs (test_analysis.py); it replaced report_access_anomalies."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from audit import restrictions, tasks
from audit.models import AuditLogEntry
from registry.tests.factories import ResidentFactory

from .screens import user_with

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")


def test_nightly_task_revokes_expired_grants_and_logs_it():
    boss = user_with("kantoku")
    clerk = user_with("madoguchi", "registry.view_resident")
    person = ResidentFactory()
    restrictions.restrict(actor=boss, kind="dv_support", reason="申出", starts_on=dt.date(2026, 11, 1), resident=person)
    access_grant = restrictions.grant(
        actor=boss, user=clerk, reason="審査", expires_at=timezone.now() + dt.timedelta(hours=1), resident=person
    )
    type(access_grant).objects.filter(pk=access_grant.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert tasks.revoke_expired_grants.apply().get() == 1
    assert AuditLogEntry.objects.filter(category="permission", action="expire").count() == 1
    assert tasks.revoke_expired_grants.apply().get() == 0  # safe to run twice
