"""The four roles of the ward office, as Django groups with model permissions.

A role is a group: 窓口担当 (resident clerk), 戸籍担当 (koseki clerk), 監督者 (supervisor), 運用担当 (operator).
Its permissions are declared here, in one place, and `ensure_roles()` makes the database agree with this file (safe
to run any number of times: it creates what is missing and removes permissions a role no longer has).

Roles mostly *view*. The only other permissions are the entry screens': `registry.add_residentchange`
(異動入力: 窓口担当, 監督者), `koseki_fuhyo.add_kosekifiling` (戸籍届出の受付: 戸籍担当, 監督者),
`transfers.resolve_inboundnotice` (受信通知の処理: 窓口担当, 戸籍担当, 監督者), `transfers.resend_outboundnotice`
(送信通知の再送指示: 監督者), `audit.export_records` (暗号化ZIPでの書き出し: 監督者) and `registry.view_lock_list`
(編集中の一覧: 監督者); the registers and the outbox
still change only through the services those screens call. No role may change or delete a row directly. The
operator is the one role with `is_staff`, so that the Django admin opens for it — read-only, since it holds no
add/change/delete permission — and it views no model that holds personal data (the operator runs the
system, it does not read the registers). README 「画面と権限」 and 「デモ用ログイン」 are checked against this file
(common/tests/test_readme_roles.py).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_permission_codename
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

# Apps whose models hold the registers or the data about them. Models added to these apps later are covered by the
# roles that name the whole app, without editing this file.
REGISTER_APPS = ("registry", "koseki_fuhyo", "common", "transfers", "audit")


@dataclass(frozen=True)
class Role:
    """One role: its group name (what the ward calls it), and which models it may view."""

    key: str
    group_name: str
    description: str
    view_apps: tuple[str, ...] = ()  # every model of these apps
    view_models: tuple[str, ...] = ()  # "app_label.modelname"
    entry_permissions: tuple[str, ...] = ()  # "app_label.codename": the entry screens this role may use
    is_staff: bool = False  # opens the Django admin

    def models(self) -> list[type[models.Model]]:
        found: dict[str, type[models.Model]] = {}
        for label in self.view_apps:
            if _is_installed_label(label):  # transfers and audit may have no models yet; that is fine
                for model in apps.get_app_config(label).get_models():
                    found[model._meta.label_lower] = model
        for name in self.view_models:
            model = apps.get_model(name)
            found[model._meta.label_lower] = model
        return [found[key] for key in sorted(found)]


def _is_installed_label(label: str) -> bool:
    return any(config.label == label for config in apps.get_app_configs())


ADD_RESIDENT_CHANGE = "registry.add_residentchange"  # 異動入力 (registry_changes)
ADD_KOSEKI_FILING = "koseki_fuhyo.add_kosekifiling"  # 戸籍届出の受付 (koseki_filings)
MANAGE_RESTRICTION = "audit.manage_restriction"  # 閲覧制限・個別許可 (audit:restrictions)
RESOLVE_INBOUND = "transfers.resolve_inboundnotice"  # 受信通知の処理 (notices:resolve)
RESEND_OUTBOUND = "transfers.resend_outboundnotice"  # 送信通知の再送指示 (notices:resend)
REVIEW_FLAGS = "audit.review_analysisflag"  # 分析で見つかった事項の確認 (audit:flag_review)
MANAGE_USERS = "accounts.manage_users"  # 職員アカウントの管理 (accounts:users)
EXPORT_RECORDS = "audit.export_records"  # 暗号化ZIPでの書き出し、管理簿に記録 (audit:export_*)
VIEW_LOCK_LIST = "registry.view_lock_list"  # 編集中の一覧（排他制御） (registry_changes:locks)
# The notices both clerks work with: the outbox (what their changes sent) and the inbox (what waits for them).
NOTICE_MODELS = ("transfers.outboundnotice", "transfers.inboundnotice")

RESIDENT_CLERK = Role(
    key="resident_clerk",
    group_name="窓口担当",
    description="住民基本台帳（世帯・住民票・異動履歴）の閲覧と異動入力、通知の閲覧と受信通知の処理",
    view_apps=("registry",),
    view_models=("common.municipality", *NOTICE_MODELS),
    entry_permissions=(ADD_RESIDENT_CHANGE, RESOLVE_INBOUND),
)
KOSEKI_CLERK = Role(
    key="koseki_clerk",
    group_name="戸籍担当",
    description="戸籍・戸籍の附票・戸籍届出の閲覧と届出の受付（届出の人を探すため住民基本台帳も閲覧）、"
    "通知の閲覧と受信通知の処理",
    view_apps=("koseki_fuhyo", "registry"),
    view_models=("common.municipality", *NOTICE_MODELS),
    entry_permissions=(ADD_KOSEKI_FILING, RESOLVE_INBOUND),
)
SUPERVISOR = Role(
    key="supervisor",
    group_name="監督者",
    description="両台帳・変更イベント・通知・監査記録のすべての閲覧、異動入力と届出の受付、閲覧制限の管理と個別許可の"
    "申請・承認（承認は別の監督者）、受信通知の処理と送信通知の再送指示、暗号化ZIPでの書き出し（管理簿に記録）、"
    "職員アカウントの管理（他の監督者のパスワード・二段階認証の再設定は別の監督者の承認）",
    view_apps=REGISTER_APPS,
    view_models=("auditlog.logentry",),
    entry_permissions=(
        ADD_RESIDENT_CHANGE,
        ADD_KOSEKI_FILING,
        MANAGE_RESTRICTION,
        RESOLVE_INBOUND,
        RESEND_OUTBOUND,
        REVIEW_FLAGS,
        EXPORT_RECORDS,
        MANAGE_USERS,
        VIEW_LOCK_LIST,
    ),
)
OPERATOR = Role(
    key="operator",
    group_name="運用担当",
    description="管理画面 /admin/（閲覧のみ）で職員アカウント・グループ・通信相手・バッチの実行記録を確認、"
    "通信相手とバッチの実行記録の画面。住民・戸籍・通知・監査記録など個人情報を含む画面は開けない",
    # Only what runs the system and names no resident: staff accounts and groups (who holds which role), the
    # partners (transport, key fingerprints, failures) and the batch runs (commands, counts). Not the registers, not
    # the notices (their payloads name persons), not the audit records (they name persons and conditions).
    view_models=("auth.user", "auth.group", "transfers.partner", "audit.batchrun"),
    is_staff=True,
)

ROLES: tuple[Role, ...] = (RESIDENT_CLERK, KOSEKI_CLERK, SUPERVISOR, OPERATOR)
ROLES_BY_KEY: dict[str, Role] = {role.key: role for role in ROLES}


def _view_permissions(models_: Iterable[type[models.Model]]) -> list[Permission]:
    models_ = list(models_)
    content_types = ContentType.objects.get_for_models(*models_, for_concrete_models=False)
    wanted = {
        (content_types[model].pk, get_permission_codename("view", model._meta)): model._meta.label_lower
        for model in models_
    }
    found = {
        (perm.content_type_id, perm.codename): perm
        for perm in Permission.objects.filter(
            content_type__in=content_types.values(), codename__in={codename for _, codename in wanted}
        )
    }
    missing = sorted(label for key, label in wanted.items() if key not in found)
    if missing:
        raise LookupError(f"view permission missing for {', '.join(missing)}: run `manage.py migrate` first")
    return [found[key] for key in wanted]


def _named_permissions(codes: Iterable[str]) -> list[Permission]:
    """Permissions named "app_label.codename" (the entry screens')."""
    out = []
    for code in codes:
        app_label, codename = code.split(".", 1)
        perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if perm is None:
            raise LookupError(f"permission {code} missing: run `manage.py migrate` first")
        out.append(perm)
    return out


@transaction.atomic
def ensure_roles() -> dict[str, Group]:
    """Create or update the four groups so that each holds exactly the permissions declared above.

    Returns the groups by role key. Idempotent; needs a migrated database.
    """
    # Permissions are normally created after `migrate`; creating them here too makes the function independent of
    # the order in which a fresh database was set up (create_permissions only inserts what is missing).
    for config in apps.get_app_configs():
        create_permissions(config, verbosity=0)
    groups = {}
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role.group_name)
        group.permissions.set(_view_permissions(role.models()) + _named_permissions(role.entry_permissions))
        groups[role.key] = group
    return groups


def assign_role(user, role: Role, groups: dict[str, Group] | None = None) -> None:
    """Put a user in exactly one role: its group, and is_staff as the role says. Never makes a superuser.

    `groups` is what `ensure_roles()` returned, to save calling it again for every user.
    """
    groups = groups if groups is not None else ensure_roles()
    role_groups = Group.objects.filter(name__in=[r.group_name for r in ROLES])
    user.groups.remove(*role_groups.exclude(pk=groups[role.key].pk))
    user.groups.add(groups[role.key])
    if user.is_staff != role.is_staff:
        user.is_staff = role.is_staff
        user.save(update_fields=["is_staff"])
