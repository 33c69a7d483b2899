"""django-guardian's direct foreign-key tables for object permissions on 住民票 (fast at a million rows: an indexed
join instead of the generic content-type/text-pk table). Only exceptions live here: grants to open a restricted
person's record, each with its reason and expiry in audit.AccessGrant."""

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class ResidentUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("registry.Resident", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "住民票の個別許可（職員）"
        verbose_name_plural = "住民票の個別許可（職員）"


class ResidentGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("registry.Resident", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = "住民票の個別許可（役割）"
        verbose_name_plural = "住民票の個別許可（役割）"
