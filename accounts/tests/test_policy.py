"""accounts.policy.pending_step: what a signed-in user still owes, found in one query on every request."""

import pytest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import policy
from accounts.models import AccountState

pytestmark = pytest.mark.django_db


def test_a_clerk_who_owes_nothing_costs_one_query(staff_clerk, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert policy.pending_step(staff_clerk) is None


def test_a_supervisor_without_a_device_must_enrol(totp_enforced, supervisor):
    assert policy.pending_step(supervisor) == "otp"


def test_the_list_of_groups_can_be_emptied(settings, supervisor):
    settings.ACCOUNT_REQUIRE_TOTP_FOR = ()
    assert policy.pending_step(supervisor) is None


@pytest.mark.parametrize("model", [TOTPDevice, StaticDevice])
def test_a_confirmed_device_of_any_kind_asks_for_a_code_and_an_unconfirmed_one_does_not(model, staff_clerk):
    device = model.objects.create(user=staff_clerk, name="x", confirmed=False)
    assert policy.pending_step(staff_clerk) is None
    device.confirmed = True
    device.save()
    assert policy.pending_step(staff_clerk) == "otp_verify"


def test_an_initial_password_must_be_changed(staff_clerk):
    AccountState.objects.update_or_create(user=staff_clerk, defaults={"must_change_password": True})
    assert policy.pending_step(staff_clerk) == "password_change"
