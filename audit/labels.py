"""Japanese labels for what the audit chain stores as codes: the 画面名 a gated view writes ("module.view"), the
操作 of permission, account, operation and transmission entries, the keys of an entry's conditions and the kinds of
its subjects. One table each, read by the audit screens; a name not listed here is shown as stored.

The view names could later come from each gated view's own declaration (a `label=` beside its action name); until
then `ACTION_LABELS` is the one place that names them.
"""

from __future__ import annotations

from typing import Any

# 画面名 of the gated views (audit.gate writes "<module>.<view function>") and the 操作 of the other entries.
ACTION_LABELS: dict[str, str] = {
    # 住民基本台帳
    "search.resident_search": "住民検索",
    "resident.resident_detail": "住民票",
    "menu.find": "異動入力（住民を探す）",
    "menu.lock_list": "編集中の記録",
    "entries.move_in": "転入",
    "entries.birth": "出生",
    "entries.ex_officio_entry": "職権記載",
    "moves.move_within": "転居",
    "removals.move_out": "転出",
    "removals.death": "死亡",
    "removals.ex_officio_removal": "職権消除",
    "corrections.ex_officio_amendment": "職権修正",
    "households.change_household_head": "世帯主変更",
    "households.split_household": "世帯分離",
    "households.merge_households": "世帯合併",
    "discrepancies.discrepancy_list": "住民票と附票の不一致",
    "discrepancies.discrepancy_detail": "住民票と附票の不一致（詳細）",
    # 戸籍・附票と戸籍届出
    "search.koseki_search": "戸籍・附票の検索",
    "koseki.koseki_detail": "戸籍・附票",
    "menu.filing": "戸籍届出",
    "enter.file_birth": "出生届",
    "enter.file_new_national": "国籍取得等の届出",
    "leave.file_death": "死亡届",
    "names.file_furigana": "氏名の振り仮名の届出",
    "names.file_given_name_change": "名の変更届",
    "names.file_surname_change": "氏の変更届",
    "records.file_record_only": "戸籍のみの届出",
    "relocate.file_honseki_transfer": "転籍届",
    "relocate.file_marriage": "婚姻届",
    "relocate.file_relocation": "分籍・入籍等の届出",
    # 通知
    "inbox.inbound_list": "受信通知",
    "inbox.inbound_detail": "受信通知の詳細",
    "inbox.resolve": "受信通知の処理",
    "outbox.notice_list": "送信通知",
    "outbox.notice_detail": "送信通知の詳細",
    "outbox.resend": "送信通知の再送",
    "partners.partner_list": "通信相手",
    # 監査・閲覧制限・書き出し
    "review.review_list": "監査記録の確認",
    "log.entry_list": "アクセスログ",
    "log.entry_detail": "アクセスログ（一件）",
    "log.verify_chain": "監査ログの改ざん検証",
    "charts.chart_page": "アクセスの集計",
    "flags.flag_list": "分析で見つかった事項",
    "flags.flag_review_view": "事項の確認",
    "flags.run_analysis": "今すぐ分析",
    "batch.batch_run_list": "バッチの実行記録",
    "erasure.erasure_list": "消去の記録",
    "erasure.erasure_report": "消去の記録（報告）",
    "exports.audit_log_export": "アクセスログの書き出し",
    "exports.records_export": "記録の提供",
    "exports.download": "書き出したファイル",
    "ledger.ledger_list": "管理簿",
    "ledger.ledger_detail": "管理簿（一件）",
    "ledger.ledger_print": "管理簿の印刷",
    "restrictions.restriction_list": "閲覧制限",
    "restrictions.restriction_detail": "閲覧制限（一件）",
    "restrictions.restrict": "閲覧制限の設定",
    "restrictions.lift": "閲覧制限の解除",
    "restrictions.grant_list": "個別許可",
    "restrictions.grant": "個別許可の申請",
    "restrictions.revoke": "個別許可の取消",
    "views_approvals.approval_list": "承認待ちの申請",
    "views_approvals.approval_detail": "申請",
    # 権限（permission）
    "grant": "個別許可",
    "revoke": "個別許可の取消",
    "use": "個別許可の使用",
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
    "kind": "通知の種類",
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


def action_label(action: str) -> str:
    """The Japanese name of a 画面 or 操作 as the audit chain stores it; the stored name when none is known."""
    return ACTION_LABELS.get(action, action)


def condition_label(key: str) -> str:
    return CONDITION_LABELS.get(key, key)


def subject_kind_label(kind: str) -> str:
    return SUBJECT_KIND_LABELS.get(kind, kind)


def notice_kind_label(kind: str) -> str:
    """通知の種類 with the label the notices themselves carry (transfers.routing.NoticeKind)."""
    from transfers.routing import NoticeKind

    try:
        return NoticeKind(kind).label
    except ValueError:
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
