"""Sessions per user: the login time and the last activity stored in the session, the idle and absolute limits, and
ending every session of a user at once (when the user is disabled).

Decision: a small table (UserSession) of the session keys each login opened, rather than scanning every session on
each disable. Logins add a row, logouts remove it; disabling a user deletes the sessions named there through the
session engine (any backend) and the rows. Django also refuses an inactive user's session on the next request
(ModelBackend.get_user), so a row missed by a crash cannot keep a disabled user in."""

import datetime as dt
from importlib import import_module

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from .models import UserSession

LOGIN_AT = "accounts.login_at"
LAST_SEEN = "accounts.last_seen"
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
    """Delete every tracked session of `user`; returns how many there were."""
    engine = import_module(settings.SESSION_ENGINE)
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        engine.SessionStore(session_key=key).delete()
    UserSession.objects.filter(user=user).delete()
    return len(keys)


def active_count(user) -> int:
    return UserSession.objects.filter(user=user).count()
