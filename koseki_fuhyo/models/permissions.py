"""django-guardian's direct foreign-key tables for object permissions on 附票 rows (see registry/models/permissions)."""

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class FuhyoEntryUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("koseki_fuhyo.FuhyoEntry", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "附票の個別許可（職員）"
        verbose_name_plural = "附票の個別許可（職員）"


class FuhyoEntryGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("koseki_fuhyo.FuhyoEntry", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = "附票の個別許可（役割）"
        verbose_name_plural = "附票の個別許可（役割）"
