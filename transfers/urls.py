"""URLs of transfers: the notice screens (送信通知・受信通知・通信相手) under /notices/, every view gated, and the
machine endpoint that partners post to under /transfers/ (no login: the envelope's signature authenticates)."""

from django.urls import path

from .views import inbound, inbox, outbox, partners

notice_urls = (
    [
        path("outbox/", outbox.notice_list, name="outbox"),
        path("outbox/<int:notice_id>/", outbox.notice_detail, name="outbound"),
        path("outbox/<int:notice_id>/resend/", outbox.resend, name="resend"),
        path("inbox/", inbox.inbound_list, name="inbox"),
        path("inbox/<int:inbound_id>/", inbox.inbound_detail, name="inbound"),
        path("inbox/<int:inbound_id>/resolve/", inbox.resolve, name="resolve"),
        path("partners/", partners.partner_list, name="partners"),
    ],
    "notices",
)

machine_urls = ([path("inbound/", inbound.inbound, name="inbound")], "transfers")
