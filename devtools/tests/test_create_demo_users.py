"""`manage.py create_demo_users`: the demo accounts of `make run`, one per role, only where DEBUG or --force-demo."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from devtools.management.commands.create_demo_users import DEMO_USERS

pytestmark = pytest.mark.django_db


def _run(**options) -> str:
    out = StringIO()
    call_command("create_demo_users", stdout=out, **options)
    return out.getvalue()


def test_refuses_without_debug_or_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force-demo"):
        _run()
    assert not get_user_model().objects.exists()


def test_creates_one_user_per_role_and_prints_them(settings):
    settings.DEBUG = False
    output = _run(force_demo=True)
    users = {user.username: user for user in get_user_model().objects.all()}
    assert set(users) == {"clerk", "koseki", "supervisor", "supervisor2", "operator"}
    for demo in DEMO_USERS:
        user = users[demo.username]
        assert user.check_password(demo.password)
        assert list(user.groups.values_list("name", flat=True)) == [demo.role.group_name]
        assert user.is_staff is (demo.username == "operator")
        assert not user.is_superuser
        assert f"username={demo.username}" in output
        assert f"password={demo.password}" in output
        assert demo.role.group_name in output


def test_runs_under_debug_without_the_flag(settings):
    settings.DEBUG = True
    _run()
    assert get_user_model().objects.count() == len(DEMO_USERS)


def test_is_idempotent_and_restores_a_changed_password(settings):
    settings.DEBUG = True
    _run()
    clerk = get_user_model().objects.get(username="clerk")
    clerk.set_password("someone-changed-it-42")
    clerk.is_staff = True
    clerk.save()
    output = _run()
    assert get_user_model().objects.count() == len(DEMO_USERS)
    clerk.refresh_from_db()
    assert clerk.check_password("madoguchi-demo-2468")
    assert clerk.is_staff is False
    assert clerk.groups.count() == 1
    assert "[更新]" in output
    assert "[既存]" in output


def test_the_demo_users_can_log_in(client, settings):
    settings.DEBUG = True
    _run()
    for demo in DEMO_USERS:
        assert client.login(username=demo.username, password=demo.password)
        client.logout()


def test_refuses_to_touch_a_superuser_of_the_same_name(settings):
    settings.DEBUG = True
    get_user_model().objects.create_superuser("operator", password="a-real-admin-password-1")
    with pytest.raises(CommandError, match="superuser"):
        _run()
    assert get_user_model().objects.get(username="operator").check_password("a-real-admin-password-1")
