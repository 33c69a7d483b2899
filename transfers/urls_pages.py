"""URLs of the notice screens (送信通知・受信通知・通信相手), under /notices/. Every view is gated. The machine
endpoint that partners post to is in transfers/urls.py, not here."""

from django.urls import path

from .views_pages import inbox, outbox, partners

app_name = "notices"

urlpatterns = [
    path("outbox/", outbox.notice_list, name="outbox"),
    path("outbox/<int:notice_id>/", outbox.notice_detail, name="outbound"),
    path("outbox/<int:notice_id>/resend/", outbox.resend, name="resend"),
    path("inbox/", inbox.inbound_list, name="inbox"),
    path("inbox/<int:inbound_id>/", inbox.inbound_detail, name="inbound"),
    path("inbox/<int:inbound_id>/resolve/", inbox.resolve, name="resolve"),
    path("partners/", partners.partner_list, name="partners"),
]
