"""What a signed-in user still owes before the pages open: the second factor, then a new password."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django_otp import device_classes

from .models import AccountState


def totp_required(user) -> bool:
    """Members of the groups in ACCOUNT_REQUIRE_TOTP_FOR (監督者 and 運用担当 by default)."""
    groups = tuple(getattr(settings, "ACCOUNT_REQUIRE_TOTP_FOR", ()))
    return bool(groups) and user.groups.filter(name__in=groups).exists()


def must_change_password(user) -> bool:
    return AccountState.objects.filter(user=user, must_change_password=True).exists()


def _owed(user) -> dict[str, bool]:
    """In one query (it runs on every request): a confirmed device of any kind, membership of a group that needs
    the second factor, and a password that must be changed."""
    groups = tuple(getattr(settings, "ACCOUNT_REQUIRE_TOTP_FOR", ()))
    checks = {
        f"device_{index}": Exists(model.objects.filter(user=OuterRef("pk"), confirmed=True))
        for index, model in enumerate(device_classes())
    }
    checks["needs_totp"] = Exists(
        get_user_model().groups.through.objects.filter(user=OuterRef("pk"), group__name__in=groups or ("",))
    )
    checks["must_change"] = Exists(AccountState.objects.filter(user=OuterRef("pk"), must_change_password=True))
    row = get_user_model().objects.filter(pk=user.pk).values(**checks).first() or {}
    return {
        "has_device": any(value for key, value in row.items() if key.startswith("device_")),
        "needs_totp": bool(groups) and bool(row.get("needs_totp")),
        "must_change": bool(row.get("must_change")),
    }


def pending_step(user) -> str | None:
    """ "otp" (enrol a device first), "otp_verify" (type a code), "password_change", or None (all done).

    A user who enrolled a device of their own accord is asked for a code too: a second factor that could be skipped
    would protect nothing."""
    owed = _owed(user)
    verified = getattr(user, "is_verified", None)
    if not (verified is not None and verified()):
        if owed["has_device"]:
            return "otp_verify"
        if owed["needs_totp"]:
            return "otp"
    if owed["must_change"]:
        return "password_change"
    return None
