"""Django admin for operators: read-only wherever personal data is shown.

Records change only through the services (one transaction, history, notices); the admin is a window for operators,
not a second way in. Deleting is refused everywhere.
"""

from django.contrib import admin
from django.http import HttpRequest

from audit.visibility import hidden_names, mask_names


def _visible(qs, request: HttpRequest):
    """The one visibility rule (audit.visibility) for every admin list, change page, search and inline: a person
    restricted for the user is not there at all (their change page answers as an unknown id does)."""
    return qs.visible_to(request.user) if hasattr(qs, "visible_to") else qs


class ReadOnlyAdmin(admin.ModelAdmin):
    """View-only: no add, change or delete, whatever the user's permissions; rows of restricted persons only for a
    user with a grant."""

    def get_queryset(self, request: HttpRequest):
        return _visible(super().get_queryset(request), request)

    def get_object(self, request: HttpRequest, object_id, from_field=None):
        """The record, with the names of persons restricted for the user masked in its text items (筆頭者の氏名,
        世帯主 in 異動履歴 …): for display only — the admin never saves."""
        obj = super().get_object(request, object_id, from_field)
        names = hidden_names(request.user) if obj is not None else frozenset()
        for field in obj._meta.concrete_fields if obj is not None and names else ():
            value = getattr(obj, field.attname)
            if isinstance(value, str):
                setattr(obj, field.attname, mask_names(value, names))
        return obj

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest):
        return _visible(super().get_queryset(request), request)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
