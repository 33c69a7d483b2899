"""The four roles as groups: what each may view, which entry screens each may use (異動入力, 届出の受付) and that
nobody may change or delete rows directly, and that ensure_roles() can run any number of times."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission

from common.roles import KOSEKI_CLERK, OPERATOR, RESIDENT_CLERK, ROLES, SUPERVISOR, assign_role, ensure_roles

pytestmark = pytest.mark.django_db


def _codes(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def _view_codes(app_label: str) -> set[str]:
    return {f"{app_label}.view_{model._meta.model_name}" for model in apps.get_app_config(app_label).get_models()}


def test_creates_the_four_groups():
    groups = ensure_roles()
    assert {group.name for group in groups.values()} == {"窓口担当", "戸籍担当", "監督者", "運用担当"}
    assert set(groups) == {role.key for role in ROLES}


def test_is_idempotent_and_repairs_drift():
    first = {key: _codes(group) for key, group in ensure_roles().items()}
    clerk_group = Group.objects.get(name=RESIDENT_CLERK.group_name)
    clerk_group.permissions.add(Permission.objects.get(codename="delete_resident"))  # someone edited it by hand
    second = {key: _codes(group) for key, group in ensure_roles().items()}
    assert first == second
    assert Group.objects.filter(name__in=[role.group_name for role in ROLES]).count() == len(ROLES)


def test_resident_clerk_views_the_resident_register_only():
    resident_clerk = _codes(ensure_roles()[RESIDENT_CLERK.key])
    assert _view_codes("registry") <= resident_clerk
    assert "common.view_municipality" in resident_clerk
    assert not any(code.startswith("koseki_fuhyo.") for code in resident_clerk)


def test_koseki_clerk_views_koseki_and_the_resident_register_to_find_persons():
    koseki_clerk = _codes(ensure_roles()[KOSEKI_CLERK.key])
    assert _view_codes("koseki_fuhyo") <= koseki_clerk
    assert _view_codes("registry") <= koseki_clerk  # a 届出's persons are found in the 住民基本台帳
    assert not any(code.startswith("registry.") and not code.startswith("registry.view_") for code in koseki_clerk)


def test_supervisor_views_everything_in_the_register_apps():
    groups = ensure_roles()
    everything = _view_codes("registry") | _view_codes("koseki_fuhyo") | _view_codes("common")
    assert everything | {"auditlog.view_logentry"} <= _codes(groups[SUPERVISOR.key])


def test_operator_views_accounts_partners_and_batch_runs_only():
    """Issue 12, finding 6: the operator runs the system and reads no register, notice or audit record."""
    assert _codes(ensure_roles()[OPERATOR.key]) == {
        "auth.view_user",
        "auth.view_group",
        "transfers.view_partner",
        "audit.view_batchrun",
    }


ENTRY_PERMISSIONS = {
    "registry.add_residentchange",
    "koseki_fuhyo.add_kosekifiling",
    "audit.manage_restriction",
    "transfers.resolve_inboundnotice",
    "transfers.resend_outboundnotice",
    "audit.review_analysisflag",
    "audit.export_records",
    "accounts.manage_users",
}


def test_no_role_may_change_or_delete_and_adds_only_through_the_entry_screens():
    for group in ensure_roles().values():
        direct = {code for code in _codes(group) if not code.split(".")[1].startswith("view_")}
        assert direct <= ENTRY_PERMISSIONS, group.name


def test_entry_screens_by_role():
    groups = ensure_roles()
    resolve = "transfers.resolve_inboundnotice"
    assert _codes(groups[RESIDENT_CLERK.key]) & ENTRY_PERMISSIONS == {"registry.add_residentchange", resolve}
    assert _codes(groups[KOSEKI_CLERK.key]) & ENTRY_PERMISSIONS == {"koseki_fuhyo.add_kosekifiling", resolve}
    assert _codes(groups[SUPERVISOR.key]) & ENTRY_PERMISSIONS == ENTRY_PERMISSIONS
    assert _codes(groups[OPERATOR.key]) & ENTRY_PERMISSIONS == set()  # the admin stays read-only


def test_only_the_supervisor_manages_restrictions():
    groups = ensure_roles()
    holders = {key for key, group in groups.items() if "audit.manage_restriction" in _codes(group)}
    assert holders == {SUPERVISOR.key}


def test_notices_by_role():
    """Both clerks see the outbox and the inbox and resolve inbound notices; the supervisor also resends; the
    operator sees the partners only (no notice: their payloads name persons)."""
    groups = ensure_roles()
    notices = {"transfers.view_outboundnotice", "transfers.view_inboundnotice", "transfers.resolve_inboundnotice"}
    for role in (RESIDENT_CLERK, KOSEKI_CLERK):
        codes = _codes(groups[role.key])
        assert notices <= codes, role.group_name
        assert not {"transfers.resend_outboundnotice", "transfers.view_partner"} & codes, role.group_name
    supervisor = _codes(groups[SUPERVISOR.key])
    assert notices | {"transfers.resend_outboundnotice", "transfers.view_partner"} | _view_codes("transfers") <= (
        supervisor
    )
    operator = {code for code in _codes(groups[OPERATOR.key]) if code.startswith("transfers.")}
    assert operator == {"transfers.view_partner"}


def test_only_the_supervisor_resends():
    groups = ensure_roles()
    holders = {key for key, group in groups.items() if "transfers.resend_outboundnotice" in _codes(group)}
    assert holders == {SUPERVISOR.key}


def test_entry_permissions_survive_a_rerun_and_open_the_menus(client, django_user_model):
    ensure_roles()
    groups = ensure_roles()
    clerk = django_user_model.objects.create_user(username="madoguchi2", password="x-for-tests-only")
    assign_role(clerk, RESIDENT_CLERK, groups)
    client.force_login(clerk)
    assert client.get("/changes/").status_code == 200
    assert client.get("/filings/").status_code == 403
    koseki = django_user_model.objects.create_user(username="koseki2", password="x-for-tests-only")
    assign_role(koseki, KOSEKI_CLERK, groups)
    client.force_login(koseki)
    assert client.get("/filings/").status_code == 200
    assert client.get("/changes/").status_code == 403


def test_assign_role_sets_group_and_staff_flag(django_user_model):
    user = django_user_model.objects.create_user(username="someone", password="x-for-tests-only")
    assign_role(user, OPERATOR)
    user.refresh_from_db()
    assert user.is_staff
    assert user.has_perm("auth.view_user")
    assert not user.has_perm("registry.view_resident")
    assert not user.has_perm("registry.change_resident")
    assign_role(user, RESIDENT_CLERK)
    user = django_user_model.objects.get(pk=user.pk)  # fresh permission cache
    assert not user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == ["窓口担当"]
    assert user.has_perm("registry.view_resident")
    assert not user.has_perm("koseki_fuhyo.view_koseki")


def test_operator_opens_the_admin_and_clerks_do_not(client, django_user_model):
    operator = django_user_model.objects.create_user(username="op", password="x-for-tests-only")
    assign_role(operator, OPERATOR)
    client.force_login(operator)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 200
    assert client.get("/admin/auth/user/add/").status_code == 403
    assert client.get("/admin/registry/resident/").status_code == 403

    clerk = django_user_model.objects.create_user(username="madoguchi", password="x-for-tests-only")
    assign_role(clerk, RESIDENT_CLERK)
    client.force_login(clerk)
    assert client.get("/admin/").status_code == 302  # not staff: sent to the admin login
