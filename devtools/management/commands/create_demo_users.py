"""Create the demo accounts of `make run`: one per role, with known passwords, for dummy data only.

The demo accounts are ready to use: no forced change of the initial password, and the roles that need a second
factor (監督者, 運用担当: ACCOUNT_REQUIRE_TOTP_FOR) get an authenticator with a known secret, printed with the logins
(add it to any TOTP app, or `oathtool --totp -b SECRET`). Set ACCOUNT_REQUIRE_TOTP_FOR= (empty) in .env to skip the
second factor in a demo altogether."""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import totp
from accounts.models import AccountState
from common.context import audit_context
from common.roles import KOSEKI_CLERK, OPERATOR, RESIDENT_CLERK, SUPERVISOR, Role, assign_role, ensure_roles


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    last_name: str
    role: Role


# Known on purpose: they are printed by `make run` and written in README.md. They pass the validators of settings
# (12 characters or more, not common, not numeric, not like the username), which the command checks again.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("clerk", "madoguchi-demo-2468", "窓口", RESIDENT_CLERK),
    DemoUser("koseki", "fuhyo-demo-1357", "戸籍", KOSEKI_CLERK),
    DemoUser("supervisor", "kantoku-demo-8642", "監督", SUPERVISOR),
    # A second supervisor: grants and resets of another supervisor need one to approve (two-person rule).
    DemoUser("supervisor2", "kantoku2-demo-7531", "副監督", SUPERVISOR),
    DemoUser("operator", "unyou-demo-9753", "運用", OPERATOR),
)


def demo_totp_key(username: str) -> str:
    """The demo authenticator's secret (20 bytes, hex as django-otp stores it): derived from the name, public."""
    return hashlib.sha256(f"demo-totp:{username}".encode()).hexdigest()[:40]


def _ensure_demo_factor(user, demo: DemoUser) -> bool:
    """No pending password change; a confirmed TOTP device with the known secret for the roles that need one.
    Returns whether anything changed."""
    changed = False
    state, _ = AccountState.objects.get_or_create(user=user)
    if state.must_change_password:
        state.must_change_password = False
        state.save(update_fields=["must_change_password"])
        changed = True
    if demo.role.group_name not in settings.ACCOUNT_REQUIRE_TOTP_FOR:
        return changed
    key = demo_totp_key(demo.username)
    devices = list(totp.TOTPDevice.objects.filter(user=user))
    if [(d.key, d.confirmed) for d in devices] != [(key, True)]:
        totp.TOTPDevice.objects.filter(user=user).delete()
        totp.TOTPDevice.objects.create(user=user, name=totp.DEVICE_NAME, key=key, confirmed=True)
        changed = True
    return changed


class Command(BaseCommand):
    help = (
        "デモ用の職員アカウント（窓口担当・戸籍担当・監督者・運用担当）を作成し、ID とパスワードを表示する。"
        "DJANGO_DEBUG が真のとき、または --force-demo を付けたときだけ動く。何度実行しても同じ結果になる。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force-demo",
            action="store_true",
            help="DEBUG が偽でも作成する（make run が付ける。本番のデータベースには使わないこと）",
        )

    def handle(self, *args, force_demo: bool, **options) -> None:
        if not (settings.DEBUG or force_demo):
            raise CommandError(
                "DJANGO_DEBUG が偽のため、デモ用アカウントは作成しません。"
                "ダミーデータだけの環境なら --force-demo を付けてください。"
            )
        user_model = get_user_model()
        rows = []
        with audit_context(None, "command:create_demo_users"), transaction.atomic():
            groups = ensure_roles()
            for demo in DEMO_USERS:
                user, created = user_model.objects.get_or_create(
                    username=demo.username, defaults={"last_name": demo.last_name, "first_name": "デモ"}
                )
                if user.is_superuser:
                    raise CommandError(f"{demo.username} は管理者（superuser）です。デモ用に書き換えません。")
                try:
                    validate_password(demo.password, user)
                except ValidationError as exc:
                    raise CommandError(f"{demo.username}: {' '.join(exc.messages)}") from exc
                changed = created
                if not user.check_password(demo.password) or not user.is_active:
                    user.set_password(demo.password)
                    user.is_active = True
                    user.save(update_fields=["password", "is_active"])
                    changed = True
                assign_role(user, demo.role, groups)
                changed = _ensure_demo_factor(user, demo) or changed
                state = "作成" if created else ("更新" if changed else "既存")
                rows.append((demo, state))

        self.stdout.write("デモ用アカウント（ダミーデータ専用。本物の住民情報がある環境では使わないこと）")
        width = max(len(demo.username) for demo in DEMO_USERS)
        pw_width = max(len(demo.password) for demo in DEMO_USERS)
        for demo, state in rows:
            staff = "（管理画面 /admin/ 閲覧可）" if demo.role.is_staff else ""
            self.stdout.write(
                f"  username={demo.username:<{width}}  password={demo.password:<{pw_width}}  "
                f"role={demo.role.group_name} ({demo.role.key}){staff}  [{state}]"
            )
        devices = {
            device.user.username: device
            for device in totp.TOTPDevice.objects.filter(
                user__username__in=[demo.username for demo in DEMO_USERS], confirmed=True
            ).select_related("user")
        }
        if devices:
            self.stdout.write("二段階認証（監督者・運用担当）: 認証アプリに次の秘密鍵を登録するか、QR 用の URI を使う")
            for username, device in sorted(devices.items()):
                secret = totp.secret_base32(device).replace(" ", "")
                self.stdout.write(f"  username={username:<{width}}  totp_secret={secret}  uri={device.config_url}")
