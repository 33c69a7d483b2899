"""Session bookkeeping on login and logout, and ending every session of a user who is disabled (whether in the
supervisor's screen, the Django admin or the shell)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from . import sessions


@receiver(user_logged_in, dispatch_uid="accounts_session_start")
def session_started(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        sessions.start(request, user)


@receiver(user_logged_out, dispatch_uid="accounts_session_end")
def session_ended(sender, request, user, **kwargs) -> None:
    if request is not None:
        sessions.forget(request)


@receiver(post_save, sender=get_user_model(), dispatch_uid="accounts_disabled_user_sessions")
def disabled_user_sessions(sender, instance, created: bool, **kwargs) -> None:
    if not created and not instance.is_active:
        sessions.end_all_for(instance)
