"""The main menu: each screen registers its entry here (label, URL name, permission, group). Entries whose URL does
not exist yet, or that the user may not open, are left out — so the menu never links to a page that would refuse.

The header keeps to one line at 1366 px for every role: the daily screens are links of their own, the rest sit in
a few drop-down groups (通知・監査・管理). A group of which this user may open only one entry shows that entry as a
plain link. A user who still owes the second factor (or a new password) gets no menu at all: the gate would only
send them back to that step (accounts.middleware)."""

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from accounts import policy


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    permission: str | None = None
    shortcut: str = ""  # accesskey, shown beside the label
    also: tuple[str, ...] = ()  # further permissions the page needs
    group: str = ""  # the drop-down it sits in ("" = a link of its own in the header)
    in_header: bool = True  # False: the home page only (the header links the user's name to it)


NOTICES, AUDIT, MANAGE = "通知", "監査", "管理"

MENU: tuple[MenuItem, ...] = (
    MenuItem("住民検索", "registry:search", "registry.view_resident", "s"),
    MenuItem("異動入力", "registry_changes:menu", "registry.add_residentchange", "i"),
    MenuItem("戸籍・附票", "koseki_fuhyo:search", "koseki_fuhyo.view_koseki", "k"),
    MenuItem("戸籍届出", "koseki_filings:menu", "koseki_fuhyo.add_kosekifiling", "t"),
    MenuItem("受信通知", "notices:inbox", "transfers.view_inboundnotice", "u", group=NOTICES),
    MenuItem("送信通知", "notices:outbox", "transfers.view_outboundnotice", "o", group=NOTICES),
    MenuItem("通信相手", "notices:partners", "transfers.view_partner", "", group=NOTICES),
    MenuItem("アクセスログ", "audit:log", "audit.view_auditlogentry", "l", group=AUDIT),
    MenuItem("監査記録の確認", "audit:review", "audit.view_auditlogentry", "a", group=AUDIT),
    MenuItem("住民票・附票の不一致", "registry:discrepancies", "registry.view_registerdiscrepancy", "", group=AUDIT),
    MenuItem("バッチの実行記録", "audit:batch_runs", "audit.view_batchrun", "", group=AUDIT),
    MenuItem("消去の記録", "audit:erasures", "audit.view_erasurerecord", "", group=AUDIT),
    MenuItem("管理簿", "audit:ledger", "audit.view_handoverrecord", "", group=AUDIT),
    MenuItem("閲覧制限・個別許可", "audit:restrictions", "audit.manage_restriction", "r", group=MANAGE),
    MenuItem(
        "承認待ちの申請", "accounts:approvals", "audit.manage_restriction", "", ("accounts.manage_users",), MANAGE
    ),
    MenuItem("アカウント", "accounts:home", None, "", group=MANAGE, in_header=False),
    MenuItem("運用管理", "admin:index", None, "", group=MANAGE),
)


def _owes_a_step(request: HttpRequest, user) -> bool:
    """The second factor or a password change still to come (the gate middleware has asked already)."""
    if hasattr(request, "account_pending_step"):
        return request.account_pending_step is not None

    return policy.pending_step(user) is not None


def menu_for(request: HttpRequest) -> list[dict]:
    """The entries this user may open, in the order of MENU (the home page lists them all)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or _owes_a_step(request, user):
        return []
    items = []
    for item in MENU:
        if item.url_name.startswith("admin:") and not user.is_staff:
            continue
        if item.permission and not user.has_perm(item.permission):
            continue
        if item.also and not user.has_perms(item.also):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append(
            {
                "label": item.label,
                "url": url,
                "shortcut": item.shortcut,
                "group": item.group,
                "in_header": item.in_header,
                "active": request.path.startswith(url) and url != "/",
            }
        )
    return items


def header_menu(items: list[dict]) -> list[dict]:
    """The header's entries: links of their own, and groups ({"label", "entries", "active"}) in the place of their
    first entry. A group with one entry for this user is shown as that entry."""
    sizes: dict[str, int] = {}
    items = [item for item in items if item["in_header"]]
    for item in items:
        sizes[item["group"]] = sizes.get(item["group"], 0) + 1
    out: list[dict] = []
    groups: dict[str, dict] = {}
    for item in items:
        name = item["group"]
        if not name or sizes[name] == 1:
            out.append(item)
        elif name in groups:
            groups[name]["entries"].append(item)
            groups[name]["active"] = groups[name]["active"] or item["active"]
        else:
            groups[name] = {"label": name, "entries": [item], "active": item["active"]}
            out.append(groups[name])
    return out
