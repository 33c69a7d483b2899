"""閲覧制限 is keyed by the person's 住民票コード: the service refuses to key it by one that fails its check digit."""

import datetime as dt

import pytest

from audit import restrictions
from audit.models import AccessRestriction
from common.errors import ServiceError
from koseki_fuhyo.tests.factories import link_to_koseki
from registry.models import Resident
from registry.tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db


def _restrict(supervisor, resident: Resident) -> AccessRestriction:
    return restrictions.restrict(
        actor=supervisor,
        kind=AccessRestriction.Kind.DV_SUPPORT,
        reason="DV等支援措置の申出（受付番号 R8-002）",
        starts_on=dt.date(2026, 11, 1),
        resident=resident,
    )


def test_a_code_that_fails_its_check_digit_is_not_a_key(django_user_model):
    supervisor = django_user_model.objects.create_user("boss", password="x")
    resident = ResidentFactory()
    Resident.objects.filter(pk=resident.pk).update(juminhyo_code="12345678904")  # around the services; invalid
    resident.refresh_from_db()
    with pytest.raises(ServiceError) as refused:
        _restrict(supervisor, resident)
    assert "住民票コードの検査数字が正しくありません" in refused.value.message_dict["juminhyo_code"][0]
    assert not AccessRestriction.objects.exists()
    resident.refresh_from_db()
    assert not resident.access_restricted


def test_a_valid_code_keys_the_restriction(django_user_model):
    supervisor = django_user_model.objects.create_user("boss", password="x")
    resident = ResidentFactory()
    link_to_koseki(resident)
    restriction = _restrict(supervisor, resident)
    assert restriction.juminhyo_code == resident.juminhyo_code
