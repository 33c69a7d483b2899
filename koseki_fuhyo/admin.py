from django.contrib import admin

from common.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import FilingPerson, FuhyoAddress, FuhyoEntry, Koseki, KosekiFiling


class FuhyoEntryInline(ReadOnlyInline):
    model = FuhyoEntry
    fields = ("position", "surname", "given_name", "birth_date", "status", "entered_reason", "removed_reason")
    readonly_fields = fields


@admin.register(Koseki)
class KosekiAdmin(ReadOnlyAdmin):
    list_display = ("id", "honseki_address", "hittousha_surname", "hittousha_given_name", "status", "formed_on")
    list_filter = ("status",)
    search_fields = ("honseki_address",)
    show_full_result_count = False
    inlines = [FuhyoEntryInline]


class FuhyoAddressInline(ReadOnlyInline):
    model = FuhyoAddress
    fields = (
        "municipality",
        "address",
        "is_abroad",
        "country",
        "established_on",
        "recorded_on",
        "reason",
        "is_current",
    )
    readonly_fields = fields


@admin.register(FuhyoEntry)
class FuhyoEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "koseki", "surname", "given_name", "birth_date", "status")
    list_filter = ("status",)
    search_fields = ("=juminhyo_code", "surname_kana")
    raw_id_fields = ("koseki",)
    # The 情報提供用個人識別符号 is never shown in clear: masked, from transfers.IdentifierSymbol.
    readonly_fields = ("masked_info_provision_code",)
    show_full_result_count = False
    inlines = [FuhyoAddressInline]

    @admin.display(description="情報提供用個人識別符号")
    def masked_info_provision_code(self, obj: FuhyoEntry) -> str:
        return obj.masked_info_provision_code


class FilingPersonInline(ReadOnlyInline):
    model = FilingPerson
    fields = ("role", "surname", "given_name", "birth_date", "address_municipality", "fuhyo_entry", "resident")
    readonly_fields = fields


@admin.register(KosekiFiling)
class KosekiFilingAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "filed_on", "accepted_on", "recorded_on", "received_at", "status")
    list_filter = ("kind", "status", "ward_role")
    date_hierarchy = "filed_on"
    show_full_result_count = False
    inlines = [FilingPersonInline]
