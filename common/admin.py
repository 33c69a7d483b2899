from django.contrib import admin

from .admin_base import ReadOnlyAdmin
from .models import ChangeEvent, Municipality


@admin.register(Municipality)
class MunicipalityAdmin(ReadOnlyAdmin):
    list_display = ("code", "prefecture_name", "name", "kind", "is_active")
    list_filter = ("kind", "prefecture_name", "is_active")
    search_fields = ("code", "name", "prefecture_name")


@admin.register(ChangeEvent)
class ChangeEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "reason", "occurred_at", "source", "routed_at")
    list_filter = ("kind", "source")
    date_hierarchy = "occurred_at"
    # The payload holds personal data: shown on the detail page only, to users allowed to view events.
    readonly_fields = (
        "kind",
        "reason",
        "occurred_at",
        "change_group",
        "resident",
        "fuhyo_entry",
        "koseki",
        "filing",
        "payload",
        "actor",
        "source",
        "request_id",
        "routed_at",
    )
    raw_id_fields = ("resident", "fuhyo_entry", "koseki", "filing", "actor")
