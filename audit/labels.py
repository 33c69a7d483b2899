"""Japanese labels for what the audit chain stores as codes: the 画面名 a gated view writes ("module.view"), the
操作 of permission, account, operation and transmission entries, the keys of an entry's conditions and the kinds of
its subjects. One table each, read by the audit screens; a name not listed here is shown as stored.

The 画面名 come from each gated view's own declaration (`action=` and `label=`, read through audit.screens).
"""

from __future__ import annotations

from typing import Any

from koseki_fuhyo.choices import FilingKind
from transfers.routing import NoticeKind

from . import screens

# 操作 of the entries that are not a screen's (permission, account, operation and transmission events). The 画面名 of
# a screen is declared with its view (audit.gate: action= and label=) and read from there (audit.screens).
OPERATION_LABELS: dict[str, str] = {
    # 権限（permission）
    "grant": "個別許可の付与",
    "revoke": "個別許可の取消",
    "use": "個別許可による閲覧",
    "expire": "個別許可の期限切れ",
    "restrict": "閲覧制限の設定",
    "lift": "閲覧制限の解除",
    "grant_requested": "個別許可の申請",
    "grant_approved": "個別許可の承認",
    "grant_refused": "個別許可の却下",
    # アカウント
    "login": "ログイン",
    "login_failed": "ログインの失敗",
    "logout": "ログアウト",
    "locked_out": "アカウントのロック",
    "lockout_lifted": "ロックの解除",
    "idle_timeout": "無操作によるログアウト",
    "session_expired": "ログイン期限切れ",
    "session_revoked": "セッションの終了",
    "otp_verified": "二段階認証",
    "otp_failed": "二段階認証の失敗",
    "otp_enrolled": "二段階認証の登録",
    "otp_enrol_failed": "二段階認証の登録の失敗",
    "password_changed": "パスワードの変更",
    "password_reset": "パスワードの再設定",
    "password_reset_completed": "パスワードの再設定（完了）",
    "password_reset_refused": "パスワードの再設定（拒否）",
    "totp_reset": "二段階認証の再設定",
    "reset_requested": "再設定の申請",
    "reset_approved": "再設定の承認",
    "reset_refused": "再設定の却下",
    "role_changed": "役割の変更",
    "role_requested": "監督者への変更の申請",
    "role_approved": "監督者への変更の承認",
    "role_refused": "監督者への変更の却下",
    "approval_expired": "申請の期限切れ",
    "approval_refused_attempt": "承認できない操作",
    "user_created": "職員アカウントの作成",
    "user_enabled": "職員アカウントの有効化",
    "user_disabled": "職員アカウントの無効化",
    # 運用
    "export": "書き出し",
    "flag_reviewed": "事項の確認",
    # 送受信
    "sent": "送信",
    "acknowledged": "受領確認",
    "rejected": "受理されず",
    "retried": "再送予定",
    "failed": "送信失敗",
    "resent": "再送指示",
    "unconnected": "送信先未接続",
    "received": "受信",
    "applied": "自動反映",
    "waiting": "処理待ち",
    "resolved": "処理",
    "authority_refused": "送信元の権限外",
}

# Keys of an entry's conditions (search conditions, details of permission, account and transmission entries).
CONDITION_LABELS: dict[str, str] = {
    "message_id": "通知ID",
    "kind": "種類",
    "kinds": "通知の種類",
    "partner": "相手先",
    "receiver": "宛先",
    "digest": "ハッシュ（SHA-256）",
    "view": "画面名",
    "reason": "理由",
    "note": "メモ",
    "code": "コード",
    "error": "エラー",
    "attempts": "試行回数",
    "q": "検索語",
    "name": "氏名",
    "kana": "氏名（カナ）",
    "address": "住所",
    "birth_date": "生年月日",
    "juminhyo_code": "住民票コード",
    "household_number": "世帯番号",
    "status": "状態",
    "person": "対象者",
    "source": "記録の種類",
    "username": "職員ID",
    "date_from": "期間（から）",
    "date_to": "期間（まで）",
    "action": "画面・操作",
    "outcome": "結果",
    "category": "区分",
    "page": "ページ",
    "before": "ページ",
    "after": "ページ",
    "fuhyo_entry_ids": "附票の記録",
    "inbound_id": "受信通知",
    "notice_id": "送信通知",
    "log_entry_id": "アクセスログ",
    "target_username": "対象の職員ID",
    "target_user_id": "対象の職員",
    "expires_at": "期限",
    "grant_expires_at": "期限",
    "forced": "強制",
    "verify": "検証",
    "count": "件数",
    "findings": "見つかった事項",
    "koseki": "戸籍",
    "koseki_id": "戸籍",
    "resident_id": "住民票",
    "resident_ids": "住民票",
    "flag_id": "事項",
    "device": "認証の方式",
}

# Kinds of an entry's subjects (what its ids are ids of).
SUBJECT_KIND_LABELS: dict[str, str] = {
    "resident": "住民票",
    "person": "住民票",
    "audit_log": "住民票",
    "koseki": "附票",
    "fuhyo_entry": "附票",
    "household": "世帯",
    "notice": "通知",
    "user": "職員",
    "staff_account": "職員",
    "approval": "申請",
    "handover": "管理簿",
    "analysis_flag": "分析で見つかった事項",
    "batch_run": "バッチの実行記録",
    "erasure": "消去の記録",
    "partner": "通信相手",
    "filing_person": "届出の関係者",
}

# Values of these keys are digests: shown shortened, the whole value on demand.
HASH_KEYS = frozenset({"digest", "sha256", "entry_hash", "prev_hash", "session_hash"})
HASH_SHOWN = 12  # characters of a hash shown in a list (48 bits: enough to tell two apart by eye)


# The actions of the change history (django-auditlog), as the review's filter names them.
CHANGE_ACTION_LABELS: dict[str, str] = {"create": "記載（作成）", "update": "変更", "delete": "削除"}


def action_choices() -> list[tuple[str, Any]]:
    """The options of the 画面・操作 filter, grouped: the screens (as declared with their views), the other
    operations of the chain, and the actions of the change history; each shown by its label with its stored name."""
    screens_ = sorted(screens.declared_labels().items(), key=lambda item: (item[1], item[0]))
    operations = sorted(OPERATION_LABELS.items(), key=lambda item: (item[1], item[0]))
    return [
        ("", "すべて"),
        ("画面", [(name, f"{label}（{name}）") for name, label in screens_]),
        ("操作", [(name, f"{label}（{name}）") for name, label in operations]),
        ("変更履歴", list(CHANGE_ACTION_LABELS.items())),
    ]


def action_label(action: str) -> str:
    """The Japanese name of a 画面 or 操作 as the audit chain stores it; the stored name when none is known."""
    return screens.declared_labels().get(action) or OPERATION_LABELS.get(action, action)


def condition_label(key: str) -> str:
    return CONDITION_LABELS.get(key, key)


def subject_kind_label(kind: str) -> str:
    return SUBJECT_KIND_LABELS.get(kind, kind)


def notice_kind_label(kind: str) -> str:
    """A 種類 by its label: a notice's (transfers.routing.NoticeKind), else a 届出's (koseki_fuhyo FilingKind), else
    as stored."""
    for choices in (NoticeKind, FilingKind):
        try:
            return str(choices(kind).label)
        except ValueError:
            continue
    return kind


def looks_like_hash(key: str, value: Any) -> bool:
    if key in HASH_KEYS:
        return isinstance(value, str) and len(value) > HASH_SHOWN
    return (
        isinstance(value, str) and len(value) in (40, 64, 128) and all(c in "0123456789abcdef" for c in value.lower())
    )


def value_text(key: str, value: Any) -> str:
    """A condition's value in words: notice kinds and 画面名 by their labels, lists joined, the rest as stored."""
    if key == "kind" and isinstance(value, str):
        return notice_kind_label(value)
    if key == "kinds" and isinstance(value, dict):
        return "、".join(f"{notice_kind_label(str(k))} {n}件" for k, n in value.items())
    if key in ("view", "action") and isinstance(value, str):
        return action_label(value)
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    if value is None:
        return "—"
    return str(value)
