# ruff: noqa: S106 - throwaway passwords of test users
"""The header menu (issue 15, item 1): groups instead of one long row, a lone entry of a group as a plain link, and
no menu at all before the second factor."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.menu import header_menu
from common.roles import ROLES_BY_KEY, assign_role, ensure_roles

pytestmark = pytest.mark.django_db


def _user(django_user_model, username, role):
    user = django_user_model.objects.create_user(username=username, password="pass-for-tests-only")
    assign_role(user, ROLES_BY_KEY[role], ensure_roles())
    return user


def test_groups_hold_the_rarer_screens_and_a_lone_entry_is_a_link():
    items = [
        {"label": "住民検索", "group": "", "in_header": True, "active": False},
        {"label": "受信通知", "group": "通知", "in_header": True, "active": False},
        {"label": "送信通知", "group": "通知", "in_header": True, "active": True},
        {"label": "バッチの実行記録", "group": "監査", "in_header": True, "active": False},
        {"label": "アカウント", "group": "管理", "in_header": False, "active": False},
    ]
    header = header_menu(items)
    assert [entry["label"] for entry in header] == ["住民検索", "通知", "バッチの実行記録"]
    assert [item["label"] for item in header[1]["entries"]] == ["受信通知", "送信通知"]
    assert header[1]["active"] is True


def test_the_supervisor_header_has_groups_and_the_home_page_lists_everything(client, django_user_model):
    client.force_login(_user(django_user_model, "boss", "supervisor"))
    body = client.get(reverse("home")).content.decode()
    header = body.split("</header>")[0]
    assert header.count('class="menu-group') == 3  # 通知・監査・管理
    assert f'href="{reverse("audit:review")}" accesskey="a"' in header  # shortcuts inside a group still work
    assert f'class="who-name" href="{reverse("accounts:home")}"' in header
    main = body.split("</header>")[1]
    for label in ("住民検索", "受信通知", "監査記録の確認", "閲覧制限・個別許可", "アカウント"):
        assert label in main


def test_no_menu_before_the_second_factor(client, django_user_model, settings):
    settings.ACCOUNT_REQUIRE_TOTP_FOR = ("監督者", "運用担当")
    boss = _user(django_user_model, "boss", "supervisor")
    TOTPDevice.objects.create(user=boss, name="phone", confirmed=True)
    client.post(reverse("login"), {"username": "boss", "password": "pass-for-tests-only"})
    body = client.get(reverse("accounts:otp_verify")).content.decode()
    assert "確認コード" in body
    assert "main-menu" not in body
    assert reverse("registry:search") not in body
    assert "ログアウト" in body  # the way out stays
