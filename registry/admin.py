from django.contrib import admin

from common.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import EditLock, Household, Resident, ResidentChange, UsedSubmissionToken


class ResidentChangeInline(ReadOnlyInline):
    model = ResidentChange
    fields = ("reason", "change_date", "notified_on", "previous_address", "new_address", "recorded_by", "recorded_at")
    readonly_fields = fields


@admin.register(Resident)
class ResidentAdmin(ReadOnlyAdmin):
    list_display = ("id", "surname", "given_name", "name_kana", "birth_date", "status", "household")
    list_filter = ("status", "sex")
    search_fields = ("=juminhyo_code", "surname_kana", "given_name_kana")
    raw_id_fields = ("household",)
    list_select_related = ("household",)
    show_full_result_count = False  # no COUNT(*) over a million rows on every page
    inlines = [ResidentChangeInline]

    @admin.display(description="氏名（カナ）")
    def name_kana(self, obj: Resident) -> str:
        return obj.name_kana


class MemberInline(ReadOnlyInline):
    model = Resident
    fields = ("surname", "given_name", "relationship", "status")
    readonly_fields = fields


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    list_display = ("number", "address", "katagaki", "formed_on", "dissolved_on")
    search_fields = ("=number",)
    show_full_result_count = False
    inlines = [MemberInline]


@admin.register(ResidentChange)
class ResidentChangeAdmin(ReadOnlyAdmin):
    list_display = ("id", "resident", "reason", "change_date", "notified_on", "recorded_by", "recorded_at")
    list_filter = ("reason", "change_class")
    raw_id_fields = ("resident", "filing", "recorded_by")
    show_full_result_count = False


@admin.register(EditLock)
class EditLockAdmin(ReadOnlyAdmin):
    list_display = ("subject_kind", "subject_id", "holder", "screen", "acquired_at", "expires_at")
    list_filter = ("subject_kind",)
    list_select_related = ("holder",)


@admin.register(UsedSubmissionToken)
class UsedSubmissionTokenAdmin(ReadOnlyAdmin):
    list_display = ("used_at", "user", "purpose", "result_url")
    show_full_result_count = False
