"""Issue 15, item 10: the outbox banner gives each kind of notice that waits its own number and label — 送信失敗,
送信先未接続, 再送待ち (a failed attempt, the next one scheduled) and 遅延 — beside the total it always showed."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from audit.tests.screens import PASSWORD
from common.roles import RESIDENT_CLERK, assign_role, ensure_roles
from transfers.models import OutboundNotice
from transfers.routing import NoticeKind

pytestmark = pytest.mark.django_db


def test_the_outbox_banner_counts_failed_unconnected_and_retrying_each_with_its_label(client, settings):
    user = get_user_model().objects.create_user(username="madoguchi2", password=PASSWORD)
    assign_role(user, RESIDENT_CLERK, ensure_roles())
    client.force_login(get_user_model().objects.get(pk=user.pk))
    settings.TRANSFERS_OVERDUE_AFTER = 600
    state = OutboundNotice.State

    def notice(**fields):
        return OutboundNotice.objects.create(kind=NoticeKind.FUHYO_ITEMS, receiver="131130", payload={}, **fields)

    notice(state=state.FAILED, attempts=20)
    for _ in range(2):
        notice(state=state.UNCONNECTED)
    for _ in range(3):  # a failed attempt, the next one scheduled: fresh, so not yet late
        notice(state=state.PENDING, attempts=1, next_attempt_at=timezone.now() + dt.timedelta(seconds=30))
    notice(state=state.PENDING)  # never tried: not counted
    body = client.get(reverse("notices:outbox")).content.decode()
    counts = body.split('class="attention-counts"', 1)[1].split("</ul>", 1)[0]
    assert re.search(r"送信失敗</a>：<strong class=\"failed-count\">1件<", counts)
    assert re.search(r"送信先未接続</a>：<strong class=\"unconnected-count\">2件<", counts)
    assert re.search(r"再送待ち：<strong class=\"retrying-count\">3件<", counts)
    assert 'overdue-count">' not in counts  # none is late
    assert re.search(r'class="overdue-count">3件<', body)  # the total of 遅延・失敗・未接続 is unchanged


def test_only_retrying_notices_still_show_their_number(client):
    user = get_user_model().objects.create_user(username="madoguchi3", password=PASSWORD)
    assign_role(user, RESIDENT_CLERK, ensure_roles())
    client.force_login(get_user_model().objects.get(pk=user.pk))
    OutboundNotice.objects.create(
        kind=NoticeKind.FUHYO_ITEMS, receiver="131130", payload={}, state=OutboundNotice.State.PENDING, attempts=2
    )
    body = client.get(reverse("notices:outbox")).content.decode()
    assert re.search(r"再送待ち：<strong class=\"retrying-count\">1件<", body)
