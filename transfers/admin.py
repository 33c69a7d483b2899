from django.contrib import admin

from common.admin_base import ReadOnlyAdmin

from .models import OutboundNotice


@admin.register(OutboundNotice)
class OutboundNoticeAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "receiver", "state", "attempts", "created_at", "sent_at", "acknowledged_at")
    list_filter = ("kind", "state", "receiver")
    # The payload holds personal data: on the detail page only.
    readonly_fields = (
        "message_id",
        "kind",
        "receiver",
        "schema_version",
        "payload",
        "event",
        "state",
        "attempts",
        "next_attempt_at",
        "lease_until",
        "last_error",
        "created_at",
        "sent_at",
        "acknowledged_at",
    )
    raw_id_fields = ("event",)
    show_full_result_count = False
