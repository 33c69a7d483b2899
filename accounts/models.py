"""What the accounts app keeps beside Django's User: the state of the password (forced change, an approved reset),
the sessions of each user (so that disabling a user ends all of them at once), and the requests that wait for a
second supervisor's approval."""

from django.conf import settings
from django.db import models


class AccountState(models.Model):
    """One per user who was created, reset or disabled by a supervisor. A user without a row has no pending change
    and session generation 0."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="職員", on_delete=models.CASCADE, related_name="account_state"
    )
    must_change_password = models.BooleanField(
        "パスワード変更が必要", default=False, help_text="初期パスワード・再設定後は、変更するまで他の画面を開けない"
    )
    password_changed_at = models.DateTimeField("パスワード変更日時", null=True, blank=True)
    session_generation = models.PositiveIntegerField(
        "セッションの世代",
        default=0,
        help_text="利用停止・パスワードや二段階認証の再設定で一つ進む。ログイン時の世代と違うセッションは終了する",
    )
    password_reset_until = models.DateTimeField(
        "パスワード再設定の受付期限",
        null=True,
        blank=True,
        help_text="二人の監督者が承認したパスワード再設定: 本人がこの時刻まで、自分の認証アプリのコードで新しい"
        "パスワードを決められる（誰にもパスワードは表示されない）",
    )

    class Meta:
        verbose_name = "アカウントの状態"
        verbose_name_plural = "アカウントの状態"
        permissions = [("manage_users", "職員アカウントを管理できる")]

    def __str__(self) -> str:
        return f"アカウントの状態 #{self.user_id}"


class UserSession(models.Model):
    """A session that a login opened: removed on logout; all of a user's are deleted when the user is disabled."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="職員", on_delete=models.CASCADE, related_name="tracked_sessions"
    )
    session_key = models.CharField("セッションキー", max_length=40, unique=True)
    created_at = models.DateTimeField("ログイン日時", auto_now_add=True)

    class Meta:
        verbose_name = "ログイン中のセッション"
        verbose_name_plural = "ログイン中のセッション"

    def __str__(self) -> str:
        return f"セッション #{self.pk}"


class ApprovalRequest(models.Model):
    """二人承認の申請: an act that one supervisor asks for and that takes effect only when a second supervisor
    approves it — a 個別許可 on a restricted person, the reset of another supervisor's password or second factor, or
    making someone a supervisor (else one supervisor could make a second, approving account of their own).
    Nobody approves their own request, nor one that concerns themselves; a request not decided in time expires."""

    class Kind(models.TextChoices):
        GRANT = "grant", "個別許可の付与"
        RESET_PASSWORD = "reset_password", "パスワードの再設定"
        RESET_TOTP = "reset_totp", "二段階認証の再設定"
        ROLE_SUPERVISOR = "role_supervisor", "監督者への役割変更"

    class State(models.TextChoices):
        PENDING = "pending", "承認待ち"
        APPROVED = "approved", "承認済み"
        REFUSED = "refused", "却下"
        EXPIRED = "expired", "期限切れ"

    kind = models.CharField("種類", max_length=20, choices=Kind.choices)
    state = models.CharField("状態", max_length=20, choices=State.choices, default=State.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申請者", on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("申請日時")
    reason = models.CharField("理由", max_length=300)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="対象の職員",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="個別許可を受ける職員、再設定されるアカウント、または監督者になる職員",
    )
    payload = models.JSONField(
        "申請の内容", default=dict, blank=True, help_text="個別許可: 閲覧制限・記録・有効期限（ID と日時だけ）"
    )
    expires_at = models.DateTimeField("承認の期限")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="承認・却下した監督者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("承認・却下の日時", null=True, blank=True)
    decision_note = models.CharField("承認・却下の所見", max_length=300, blank=True)
    result_id = models.PositiveBigIntegerField("結果の記録", null=True, blank=True, help_text="付与された個別許可の ID")

    class Meta:
        verbose_name = "二人承認の申請"
        verbose_name_plural = "二人承認の申請"
        indexes = [
            # The list of pending requests (the approval screen's first query).
            models.Index(fields=["state", "requested_at"], name="approval_state_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}の申請 #{self.pk}"
