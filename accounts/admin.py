"""The admin of django-otp's devices, with Japanese column headers (its own are English attribute names)."""

from django.contrib import admin
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice


class JapaneseDeviceColumns:
    list_display = ("device_user", "device_name", "device_created_at", "device_last_used_at", "device_confirmed")

    @admin.display(description="職員", ordering="user")
    def device_user(self, device):
        return device.user

    @admin.display(description="名前", ordering="name")
    def device_name(self, device):
        return device.name

    @admin.display(description="登録日時", ordering="created_at")
    def device_created_at(self, device):
        return device.created_at

    @admin.display(description="最終使用日時", ordering="last_used_at")
    def device_last_used_at(self, device):
        return device.last_used_at

    @admin.display(description="確認済", boolean=True, ordering="confirmed")
    def device_confirmed(self, device):
        return device.confirmed


class TOTPDeviceJapaneseAdmin(JapaneseDeviceColumns, TOTPDeviceAdmin):
    pass


class StaticDeviceJapaneseAdmin(JapaneseDeviceColumns, StaticDeviceAdmin):
    pass


for model, model_admin in ((TOTPDevice, TOTPDeviceJapaneseAdmin), (StaticDevice, StaticDeviceJapaneseAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
