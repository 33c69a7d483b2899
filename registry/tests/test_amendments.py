"""職権修正 and the changes a 戸籍届出 makes to a 住民票."""

import datetime as dt

import pytest

from common.errors import ServiceError
from common.models import ChangeEvent
from registry import services
from registry.choices import ChangeReason
from registry.models import ResidentChange
from registry.tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db
D = dt.date(2026, 11, 20)


def test_ex_officio_amendment_records_before_and_after(as_clerk):
    r = ResidentFactory()
    services.ex_officio_amendment(
        r, {"given_name_kana": "たろー", "birth_date": dt.date(1980, 5, 2)}, change_date=D, note="戸籍照合により修正"
    )
    r.refresh_from_db()
    assert r.given_name_kana == "タロー"
    assert r.birth_date == dt.date(1980, 5, 2)
    change = ResidentChange.objects.get(resident=r)
    assert change.reason == ChangeReason.EX_OFFICIO_AMENDMENT
    assert change.details == {"given_name_kana": ["タロウ", "タロー"], "birth_date": ["1980-05-01", "1980-05-02"]}
    event = ChangeEvent.objects.get(resident=r)
    assert event.payload["before"]["given_name_kana"] == "タロウ"


def test_amendment_refusals(as_clerk):
    r = ResidentFactory()
    with pytest.raises(ServiceError):
        services.ex_officio_amendment(r, {"address": "どこか"}, change_date=D, note="x")
    with pytest.raises(ServiceError):
        services.ex_officio_amendment(r, {"given_name": "太郎"}, change_date=D, note="x")  # no change
    with pytest.raises(ServiceError):
        services.ex_officio_amendment(r, {"birth_date": dt.date(2011, 1, 1)}, change_date=D, note="x")
    with pytest.raises(ServiceError):
        services.ex_officio_amendment(r, {"relationship": "妻"}, change_date=D, note="x")
    assert not ResidentChange.objects.exists()


def test_koseki_change_updates_current_but_not_removed(as_clerk):
    r = ResidentFactory()
    result = services.apply_koseki_change(
        r, {"surname": "鈴木", "surname_kana": "スズキ"}, change_date=D, notified_on=D
    )
    r.refresh_from_db()
    assert r.surname == "鈴木"
    assert result.changes[0].reason == ChangeReason.KOSEKI_NOTICE
    services.death(r, date_of_death=D, notified_on=D)
    assert (
        services.apply_koseki_change(r, {"surname": "田中", "surname_kana": "タナカ"}, change_date=D, notified_on=D)
        is None
    )
