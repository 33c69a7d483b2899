"""The screens that moved onto common.confirm (issue 14) keep their URLs and the names the gate writes into the
hash-chained access log (`<module>.<view function>` as they were before the move)."""

import pytest
from django.urls import resolve, reverse

from audit.gate import gate_of

SCREENS = [
    ("audit:restrict", [], "restrictions.restrict", "/audit/restrictions/new/"),
    ("audit:lift", [7], "restrictions.lift", None),
    ("audit:grant", [7], "restrictions.grant", None),
    ("audit:revoke", [7], "restrictions.revoke", None),
    ("audit:flag_review", [7], "flags.flag_review_view", None),
    ("audit:export_audit_log", [], "exports.audit_log_export", None),
    ("audit:export_records", [], "exports.records_export", None),
    ("accounts:approval", [7], "views_approvals.approval_detail", None),
    ("notices:outbox", [], "outbox.notice_list", "/notices/outbox/"),
    ("notices:outbound", [7], "outbox.notice_detail", "/notices/outbox/7/"),
    ("notices:resend", [7], "outbox.resend", "/notices/outbox/7/resend/"),
    ("notices:inbox", [], "inbox.inbound_list", "/notices/inbox/"),
    ("notices:inbound", [7], "inbox.inbound_detail", "/notices/inbox/7/"),
    ("notices:resolve", [7], "inbox.resolve", "/notices/inbox/7/resolve/"),
    ("notices:partners", [], "partners.partner_list", "/notices/partners/"),
]


@pytest.mark.parametrize(("name", "args", "action", "path"), SCREENS, ids=[s[0] for s in SCREENS])
def test_the_url_and_the_access_log_name_stay(name, args, action, path):
    url = reverse(name, args=args)
    if path is not None:
        assert url == path
    view = resolve(url).func
    assert gate_of(view).action == action
    assert f"{view.__module__.rsplit('.', 1)[-1]}.{view.__name__}" == action


def test_the_partners_endpoint_stays_outside_the_gate():
    view = resolve(reverse("transfers:inbound")).func
    assert reverse("transfers:inbound") == "/transfers/inbound/"
    assert gate_of(view) is None
    assert getattr(view, "csrf_exempt", False)
