"""Sessions per user: the login time and the last activity stored in the session, the idle and absolute limits, and
ending every session of a user at once (when the user is disabled).

Decision: a per-user session generation (AccountState.session_generation) decides; the table of keys only tidies up.
A login writes the user's current generation into the session; ending all of a user's sessions moves the
generation on, and SessionLifetimeMiddleware ends, on its next request, any session whose generation is older —
however often its id rotated since the login (the forced password change rotates it) and whichever
session backend holds it. The small table (UserSession) of the keys each login opened lets the disable delete the
rows at once as well (and counts them for the audit entry); a key it missed can no longer keep anyone in."""

import datetime as dt
from importlib import import_module

from django.conf import settings
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from .models import AccountState, UserSession

LOGIN_AT = "accounts.login_at"
LAST_SEEN = "accounts.last_seen"
GENERATION = "accounts.generation"
# The last-activity stamp is written at most this often (seconds): one session write per minute, not per request.
ACTIVITY_RESOLUTION = 60


def idle_timeout() -> int:
    return int(getattr(settings, "ACCOUNT_IDLE_TIMEOUT", 15 * 60))


def max_age() -> int:
    return int(getattr(settings, "ACCOUNT_SESSION_MAX_AGE", settings.SESSION_COOKIE_AGE))


def _stamp(moment: dt.datetime) -> float:
    return moment.timestamp()


def start(request: HttpRequest, user) -> None:
    """At login: the times in the session, and the key in the table."""
    now = _stamp(timezone.now())
    request.session[LOGIN_AT] = now
    request.session[LAST_SEEN] = now
    request.session[GENERATION] = generation_of(user)
    if request.session.session_key is None:
        request.session.save()
    UserSession.objects.get_or_create(session_key=request.session.session_key, defaults={"user": user})
    _prune(user)


def _prune(user) -> None:
    """Rows whose session ended without a logout (expired, cleared): removed at the user's next login."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    for row in UserSession.objects.filter(user=user):
        if not store.exists(row.session_key):
            row.delete()


def generation_of(user) -> int:
    """The user's current session generation (0 for a user who was never disabled or reset)."""
    found = AccountState.objects.filter(user_id=user.pk).values_list("session_generation", flat=True).first()
    return found or 0


def revoked(request: HttpRequest) -> bool:
    """Whether this session was opened before the user's sessions were last ended (one query per request)."""
    return int(request.session.get(GENERATION, 0)) != generation_of(request.user)


def follow_rotation(request: HttpRequest, old_key: str | None) -> None:
    """The session id changed (password change): the tracked row follows it."""
    new_key = request.session.session_key
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


def forget(request: HttpRequest) -> None:
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        UserSession.objects.filter(session_key=key).delete()


def expired(request: HttpRequest) -> str | None:
    """ "session_expired" past the absolute lifetime, "idle_timeout" past the idle limit, else None (and the
    last-activity stamp is moved on)."""
    now = _stamp(timezone.now())
    session = request.session
    login_at = session.get(LOGIN_AT)
    if login_at is None:  # a session from before this app: starts counting now
        session[LOGIN_AT] = now
        session[LAST_SEEN] = now
        return None
    if now - float(login_at) >= max_age():
        return "session_expired"
    last_seen = float(session.get(LAST_SEEN, login_at))
    if now - last_seen >= idle_timeout():
        return "idle_timeout"
    if now - last_seen >= ACTIVITY_RESOLUTION:
        session[LAST_SEEN] = now
    return None


def end_all_for(user) -> int:
    """End every session of `user`: the generation moves on (any session opened before now is refused at its next
    request), and the tracked sessions are deleted at once. Returns how many were tracked."""
    AccountState.objects.get_or_create(user=user)
    AccountState.objects.filter(user=user).update(session_generation=F("session_generation") + 1)
    engine = import_module(settings.SESSION_ENGINE)
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        engine.SessionStore(session_key=key).delete()
    UserSession.objects.filter(user=user).delete()
    return len(keys)


def active_count(user) -> int:
    return UserSession.objects.filter(user=user).count()
