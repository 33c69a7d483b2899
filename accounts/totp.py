"""TOTP enrolment (django-otp): a pending device per user, its otpauth URI as a QR code drawn on the server (inline
SVG, segno), the secret in base32 for typing by hand, confirmation by a first code, and static backup codes."""

import base64
import re

import segno
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "認証アプリ"
BACKUP_NAME = "予備コード"
BACKUP_COUNT = 10


def pending_device(user) -> TOTPDevice:
    """The unconfirmed device being enrolled (kept across page loads, so the QR code does not change)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def secret_base32(device: TOTPDevice) -> str:
    text = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth URI as an inline <svg> element (no XML declaration, no script, no style attribute)."""
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4, border=4, dark="#000", light="#fff")
    return svg.replace("<svg ", '<svg role="img" aria-label="認証アプリに読み込むQRコード" ', 1)


def normalise(token: str) -> str:
    return re.sub(r"[\s-]", "", token or "")


@transaction.atomic
def confirm(device: TOTPDevice, token: str) -> list[str] | None:
    """Activate the pending device if `token` is a current code; returns fresh backup codes (shown once), or None."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if not device.verify_token(normalise(token)):
        return None
    TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_backup_codes(device.user)


def new_backup_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    backup = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_COUNT)]
    for code in codes:
        backup.token_set.create(token=code)
    return codes


@transaction.atomic
def verify(user, token: str):
    """The confirmed device that accepts `token` (TOTP code or an unused backup code), or None. Each device throttles
    repeated failures (django-otp)."""
    token = normalise(token).lower()
    # Six digits are a TOTP code, anything else a backup code: asking only the matching kind of device keeps one
    # kind's failures from throttling the other.
    kind = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    for device in devices_for_user(user, confirmed=True, for_verify=True):
        if isinstance(device, kind) and device.verify_token(token):
            return device
    return None


def remove_all(user) -> int:
    """A supervisor's reset: every device (TOTP and backup codes) of the user; the next login enrols again."""
    count = 0
    for model in (TOTPDevice, StaticDevice):
        deleted, _ = model.objects.filter(user=user).delete()
        count += deleted
    return count


def backup_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
