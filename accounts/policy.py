"""What a signed-in user still owes before the pages open: the second factor, then a new password."""

from django.conf import settings
from django_otp import user_has_device

from .models import AccountState


def totp_required(user) -> bool:
    """Members of the groups in ACCOUNT_REQUIRE_TOTP_FOR (監督者 and 運用担当 by default)."""
    groups = tuple(getattr(settings, "ACCOUNT_REQUIRE_TOTP_FOR", ()))
    return bool(groups) and user.groups.filter(name__in=groups).exists()


def must_change_password(user) -> bool:
    return AccountState.objects.filter(user=user, must_change_password=True).exists()


def pending_step(user) -> str | None:
    """ "otp" (enrol a device first), "otp_verify" (type a code), "password_change", or None (all done).

    A user who enrolled a device of their own accord is asked for a code too: a second factor that could be skipped
    would protect nothing."""
    verified = getattr(user, "is_verified", None)
    if not (verified is not None and verified()):
        if user_has_device(user, confirmed=True):
            return "otp_verify"
        if totp_required(user):
            return "otp"
    if must_change_password(user):
        return "password_change"
    return None
