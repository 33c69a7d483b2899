"""What the accounts app keeps beside Django's User: the state of the password (forced change) and the sessions of
each user (so that disabling a user ends all of them at once)."""

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
