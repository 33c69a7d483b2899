"""The audit models in the Django admin: read-only for operators (the log is append-only anyway; restrictions and
grants change only through the supervisor's screens, which write the permission events).

django-auditlog's own LogEntry admin is removed: its pages and its search over entry contents showed names and codes
of anyone, restricted or not, without an access-log entry. The change history is read on 監査レビュー
(/audit/review/), through the gate and the visibility rule."""

from auditlog.models import LogEntry
from django.contrib import admin

from common.admin_base import ReadOnlyAdmin

from .models import AccessGrant, AccessRestriction, AuditChainHead, AuditLogEntry


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "occurred_at", "username", "category", "action", "outcome", "subject_kind", "remote_addr")
    list_filter = ("category", "outcome")
    search_fields = ("=username", "=action", "=request_id")
    show_full_result_count = False  # no COUNT(*) over millions of entries
    readonly_fields = [f.name for f in AuditLogEntry._meta.fields]
    raw_id_fields = ("user",)
    list_select_related = False


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    list_display = ("id", "lane", "last_entry_id", "last_hash")

    @admin.display(description="系列")
    def lane(self, obj: AuditChainHead) -> int:
        return obj.lane


@admin.register(AccessRestriction)
class AccessRestrictionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "resident", "fuhyo_entry", "starts_on", "ends_on", "created_by", "lifted_at")
    list_filter = ("kind",)
    raw_id_fields = ("resident", "fuhyo_entry", "created_by", "lifted_by")
    show_full_result_count = False


@admin.register(AccessGrant)
class AccessGrantAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "resident", "fuhyo_entry", "expires_at", "granted_by", "revoked_at")
    raw_id_fields = ("user", "resident", "fuhyo_entry", "granted_by", "revoked_by")
    show_full_result_count = False


if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)
