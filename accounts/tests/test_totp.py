"""The second factor (django-otp TOTP): required of 監督者 and 運用担当 in every session before any page but the
enrolment and verification pages; available to everyone; enrolment by QR code (inline SVG) or the base32 secret,
confirmed by a first code; backup codes usable once."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.tests.screens import entries_after, last_id

from .. import totp
from .conftest import code_for, login

pytestmark = pytest.mark.django_db


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_supervisor_without_a_device_is_sent_to_enrolment(client, totp_enforced, supervisor):
    login(client, "kantoku")
    for url in (reverse("home"), reverse("registry:search"), reverse("accounts:users"), "/admin/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:otp")), url
    page = client.get(reverse("accounts:otp"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html
    assert "<path" in html
    device = TOTPDevice.objects.get(user=supervisor, confirmed=False)
    assert totp.secret_base32(device) in html


def test_enrolment_needs_a_correct_code_then_opens_the_pages(client, totp_enforced, supervisor):
    login(client, "kantoku")
    client.get(reverse("accounts:otp"))
    device = TOTPDevice.objects.get(user=supervisor)
    refused = client.post(reverse("accounts:otp"), {"token": _wrong(code_for(device))})
    assert refused.status_code == 200
    assert "コードが正しくありません" in refused.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get(reverse("home")).status_code == 302
    device.refresh_from_db()
    device.throttling_failure_count = 0  # the wrong code's throttle (django-otp) would refuse the next try for 1 s
    device.save()
    mark = last_id()
    done = client.post(reverse("accounts:otp"), {"token": code_for(device)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == totp.BACKUP_COUNT
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("accounts:users")).status_code == 200
    assert [e.action for e in entries_after(mark)] == ["otp_enrolled"]
    assert all(code not in str(entries_after(0)) for code in codes)


def _supervisor_with_device(supervisor) -> TOTPDevice:
    return TOTPDevice.objects.create(user=supervisor, name="phone", confirmed=True)


def test_a_supervisor_with_a_device_is_asked_for_a_code_every_session(client, totp_enforced, supervisor, clock):
    device = _supervisor_with_device(supervisor)
    login(client, "kantoku")
    response = client.get(reverse("registry:search"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_verify"))
    mark = last_id()
    wrong = client.post(reverse("accounts:otp_verify"), {"token": _wrong(code_for(device))})
    assert wrong.status_code == 200
    assert client.get(reverse("home")).status_code == 302
    clock.advance(seconds=5)  # past django-otp's throttle after one failure
    right = client.post(reverse("accounts:otp_verify"), {"token": code_for(device), "next": reverse("registry:search")})
    assert right.status_code == 302
    assert right["Location"] == reverse("registry:search")
    assert client.get(reverse("home")).status_code == 200
    assert [(e.action, e.outcome) for e in entries_after(mark)] == [("otp_failed", "denied"), ("otp_verified", "done")]
    client.post(reverse("logout"))
    login(client, "kantoku")  # a new session asks again
    assert client.get(reverse("home"))["Location"].startswith(reverse("accounts:otp_verify"))


def test_a_code_is_not_accepted_twice(client, totp_enforced, supervisor):
    device = _supervisor_with_device(supervisor)
    code = code_for(device)
    login(client, "kantoku")
    assert client.post(reverse("accounts:otp_verify"), {"token": code}).status_code == 302
    client.post(reverse("logout"))
    login(client, "kantoku")
    assert client.post(reverse("accounts:otp_verify"), {"token": code}).status_code == 200  # replay refused
    assert client.get(reverse("home")).status_code == 302


def test_a_backup_code_works_once(client, totp_enforced, supervisor):
    _supervisor_with_device(supervisor)
    codes = totp.new_backup_codes(supervisor)
    login(client, "kantoku")
    assert client.post(reverse("accounts:otp_verify"), {"token": codes[0].upper()}).status_code == 302
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    login(client, "kantoku")
    assert client.post(reverse("accounts:otp_verify"), {"token": codes[0]}).status_code == 200
    assert totp.backup_codes_left(supervisor) == totp.BACKUP_COUNT - 1


def test_a_clerk_need_not_enrol_but_may(client, totp_enforced, staff_clerk):
    login(client, "madoguchi")
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("accounts:otp")).status_code == 200
    device = TOTPDevice.objects.get(user=staff_clerk)
    assert client.post(reverse("accounts:otp"), {"token": code_for(device)}).status_code == 200
    client.post(reverse("logout"))
    login(client, "madoguchi")  # enrolled of their own accord: asked for a code from now on
    assert client.get(reverse("home"))["Location"].startswith(reverse("accounts:otp_verify"))


def test_the_operator_is_required_too_and_the_setting_can_empty_the_list(client, settings, supervisor):
    from .conftest import make_user

    make_user("unyou", "operator")
    settings.ACCOUNT_REQUIRE_TOTP_FOR = ("監督者", "運用担当")
    login(client, "unyou")
    assert client.get(reverse("home"))["Location"].startswith(reverse("accounts:otp"))
    settings.ACCOUNT_REQUIRE_TOTP_FOR = ()
    assert client.get(reverse("home")).status_code == 200
