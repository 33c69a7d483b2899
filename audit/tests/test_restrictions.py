"""閲覧制限 and 個別許可 end to end through the gate: masked, 404, visible after a grant, invisible after revoke or
expiry, every step logged."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from audit import restrictions
from audit.gate import personal_data_view
from audit.models import AccessRestriction, AuditLogEntry
from koseki_fuhyo.tests.factories import link_to_koseki
from registry.models import Resident
from registry.tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db


@personal_data_view(
    "registry.view_resident", subject_kind="resident", action="test_restrictions.resident_page", label="試験"
)
def resident_page(request, access, pk):
    resident = access.open(Resident.objects.get(pk=pk))
    return HttpResponse(resident.surname)


@personal_data_view(
    "registry.view_resident", subject_kind="resident", action="test_restrictions.resident_list", label="試験"
)
def resident_list(request, access):
    access.conditions = {"q": "山田"}
    lines = []
    for r in Resident.objects.order_by("pk"):
        lines.append(r.surname if access.may_see(r) else "閲覧制限あり")
        access.show(r)
    return HttpResponse(",".join(lines))


def _request(user, path="/x"):
    request = RequestFactory().get(path, REMOTE_ADDR="127.0.0.2")
    request.user = user
    request.session = SessionStore()
    request.session.save()
    return request


@pytest.fixture
def viewer(django_user_model):
    user = django_user_model.objects.create_user("viewer", password="x")
    user.user_permissions.add(Permission.objects.get(codename="view_resident"))
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def supervisor(django_user_model):
    return django_user_model.objects.create_user("boss", password="x")


def _log(n=1):
    return list(AuditLogEntry.objects.order_by("-id")[:n])


def test_without_model_permission_denied_and_logged(django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x")
    resident = ResidentFactory()
    with pytest.raises(PermissionDenied):
        resident_page(_request(nobody), pk=resident.pk)
    (entry,) = _log()
    assert (entry.outcome, entry.username, entry.action) == ("denied", "nobody", "test_restrictions.resident_page")
    assert entry.remote_addr == "127.0.0.2"
    assert len(entry.session_hash) == 64


def test_unrestricted_record_shown_and_logged(viewer):
    resident = ResidentFactory()
    assert resident_page(_request(viewer), pk=resident.pk).content.decode() == "山田"
    (entry,) = _log()
    assert entry.outcome == "shown"
    assert entry.subject_ids == [resident.pk]


def test_missing_record_is_not_found(viewer):
    with pytest.raises(Resident.DoesNotExist):
        resident_page(_request(viewer), pk=999)
    assert _log()[0].outcome == "error"


def test_restriction_grant_revoke_expiry_cycle(viewer, supervisor):
    target = ResidentFactory()
    entry = link_to_koseki(target)
    other = ResidentFactory(surname="田中")
    restriction = restrictions.restrict(
        actor=supervisor,
        kind=AccessRestriction.Kind.DV_SUPPORT,
        reason="DV等支援措置の申出（受付番号 R8-001）",
        starts_on=dt.date(2026, 11, 1),
        resident=target,
    )
    target.refresh_from_db()
    entry.refresh_from_db()
    assert target.access_restricted
    assert entry.access_restricted

    # Masked in lists, 404 on the record, and logged as denied.
    assert resident_list(_request(viewer)).content.decode() == "閲覧制限あり,田中"
    assert _log()[0].subject_ids == sorted([target.pk, other.pk])
    with pytest.raises(Http404):
        resident_page(_request(viewer), pk=target.pk)
    assert (_log()[0].outcome, _log()[0].subject_ids) == ("denied", [target.pk])

    # A supervisor grants access with a reason and an expiry: the record opens, and the use is logged.
    access_grant = restrictions.grant(
        actor=supervisor,
        user=viewer,
        resident=target,
        reason="弁護士の職務上請求の審査",
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    assert resident_page(_request(viewer), pk=target.pk).status_code == 200
    shown, used = _log(2)
    assert shown.outcome == "shown"
    assert used.action == "use"
    assert used.category == "permission"

    # Revoked: invisible again.
    restrictions.revoke(access_grant, actor=supervisor, reason="審査終了")
    with pytest.raises(Http404):
        resident_page(_request(viewer), pk=target.pk)

    # Expired: invisible even before the nightly job runs, and the job removes the permission and logs it.
    expiring = restrictions.grant(
        actor=supervisor,
        user=viewer,
        resident=target,
        reason="再審査",
        expires_at=timezone.now() + dt.timedelta(seconds=30),
    )
    type(expiring).objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(Http404):
        resident_page(_request(viewer), pk=target.pk)
    assert restrictions.revoke_expired() == 1
    assert not viewer.has_perm(restrictions.RESIDENT_PERM, target)

    actions = list(AuditLogEntry.objects.filter(category="permission").values_list("action", flat=True))
    assert actions == ["restrict", "grant", "use", "revoke", "grant", "expire"]

    # Lifting the restriction opens the record to every clerk again.
    restrictions.lift(restriction, actor=supervisor, reason="支援措置の終了（期間満了）")
    fresh = type(viewer).objects.get(pk=viewer.pk)
    assert resident_page(_request(fresh), pk=target.pk).status_code == 200


def test_grant_needs_reason_and_bounded_expiry(viewer, supervisor):
    from common.errors import ServiceError

    target = ResidentFactory()
    with pytest.raises(ServiceError):
        restrictions.grant(
            actor=supervisor, user=viewer, resident=target, reason=" ", expires_at=timezone.now() + dt.timedelta(days=1)
        )
    with pytest.raises(ServiceError):
        restrictions.grant(
            actor=supervisor,
            user=viewer,
            resident=target,
            reason="x",
            expires_at=timezone.now() + dt.timedelta(days=365),
        )
