"""URLs of the supervisor's screens: the access log and 閲覧制限・個別許可. Every view is gated."""

from django.urls import path

from .views import log, restrictions

app_name = "audit"

urlpatterns = [
    path("log/", log.entry_list, name="log"),
    path("log/<int:log_entry_id>/", log.entry_detail, name="log_entry"),
    path("log/verify/", log.verify_chain, name="verify_chain"),
    path("restrictions/", restrictions.restriction_list, name="restrictions"),
    path("restrictions/new/", restrictions.restrict, name="restrict"),
    path("restrictions/<int:restriction_id>/", restrictions.restriction_detail, name="restriction"),
    path("restrictions/<int:restriction_id>/lift/", restrictions.lift, name="lift"),
    path("restrictions/<int:restriction_id>/grant/", restrictions.grant, name="grant"),
    path("grants/", restrictions.grant_list, name="grants"),
    path("grants/<int:grant_id>/revoke/", restrictions.revoke, name="revoke"),
]
