"""The main menu: each screen registers its entry here (label, URL name, permission). Entries whose URL does not
exist yet, or that the user may not open, are left out — so the menu never links to a page that would refuse."""

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    permission: str | None = None
    shortcut: str = ""  # accesskey, shown beside the label
    also: tuple[str, ...] = ()  # further permissions the page needs


MENU: tuple[MenuItem, ...] = (
    MenuItem("住民検索", "registry:search", "registry.view_resident", "s"),
    MenuItem("異動入力", "registry_changes:menu", "registry.add_residentchange", "i"),
    MenuItem("戸籍・附票", "koseki_fuhyo:search", "koseki_fuhyo.view_koseki", "k"),
    MenuItem("戸籍届出の受付", "koseki_filings:menu", "koseki_fuhyo.add_kosekifiling", "t"),
    MenuItem("通知（送受信）", "notices:outbox", "transfers.view_outboundnotice", "o"),
    MenuItem("受信通知", "notices:inbox", "transfers.view_inboundnotice", "u"),
    MenuItem("通信相手", "notices:partners", "transfers.view_partner", ""),
    MenuItem("アクセスログ", "audit:log", "audit.view_auditlogentry", "l"),
    MenuItem("監査", "audit:review", "audit.view_auditlogentry", "a"),
    MenuItem("閲覧制限・個別許可", "audit:restrictions", "audit.manage_restriction", "r"),
    MenuItem("承認待ちの申請", "accounts:approvals", "audit.manage_restriction", "", ("accounts.manage_users",)),
    MenuItem("住民票・附票の不一致", "registry:discrepancies", "registry.view_registerdiscrepancy", ""),
    MenuItem("バッチの実行記録", "audit:batch_runs", "audit.view_batchrun", ""),
    MenuItem("消去の記録", "audit:erasures", "audit.view_erasurerecord", ""),
    MenuItem("管理簿", "audit:ledger", "audit.view_handoverrecord", ""),
    MenuItem("アカウント", "accounts:home", None, ""),
    MenuItem("運用管理", "admin:index", None, ""),
)


def menu_for(request: HttpRequest) -> list[dict]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
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
                "active": request.path.startswith(url) and url != "/",
            }
        )
    return items
