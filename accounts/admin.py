"""The admin of django-otp's devices, with Japanese column headers (its own are English attribute names)."""

from django.contrib import admin
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice


def _column(field: str, description: str, **options):
    """A list column showing the device's `field` under a Japanese header."""

    @admin.display(description=description, ordering=field, **options)
    def column(self, device):
        return getattr(device, field)

    return column


class JapaneseDeviceColumns:
    list_display = ("device_user", "device_name", "device_created_at", "device_last_used_at", "device_confirmed")
    device_user = _column("user", "職員")
    device_name = _column("name", "名前")
    device_created_at = _column("created_at", "登録日時")
    device_last_used_at = _column("last_used_at", "最終使用日時")
    device_confirmed = _column("confirmed", "確認済", boolean=True)


class TOTPDeviceJapaneseAdmin(JapaneseDeviceColumns, TOTPDeviceAdmin):
    pass


class StaticDeviceJapaneseAdmin(JapaneseDeviceColumns, StaticDeviceAdmin):
    pass


for model, model_admin in ((TOTPDevice, TOTPDeviceJapaneseAdmin), (StaticDevice, StaticDeviceJapaneseAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
