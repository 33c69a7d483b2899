"""Two checks on every request of a signed-in user.

SessionLifetimeMiddleware ends a session of an older generation than the user's (the user was disabled or their
credentials reset since the login), a session idle for ACCOUNT_IDLE_TIMEOUT seconds, and one older than
ACCOUNT_SESSION_MAX_AGE seconds since the login (however active), with one audit entry (`session_revoked` /
`idle_timeout` / `session_expired`), and sends the user to the login page with a message.

AccountGateMiddleware lets a signed-in user open only the pages needed to become fully signed in: first the second
factor (members of ACCOUNT_REQUIRE_TOTP_FOR: enrolment without a device, verification with one), then the change of an
initial or reset password."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

from . import policy, sessions

ENDING_MESSAGES = {
    "idle_timeout": "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。",
    "session_expired": "ログインしてから{hours}時間が経過したため、ログアウトしました。もう一度ログインしてください。",
    "session_revoked": "このアカウントのセッションは終了されました。もう一度ログインしてください。",
}


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            reason = "session_revoked" if sessions.revoked(request) else sessions.expired(request)
            if reason is not None:
                request.accounts_ending = reason
                logout(request)  # writes the audit entry under `reason` (audit.signals)
                messages.info(request, ENDING_MESSAGES[reason].format(hours=sessions.max_age() // 3600))
                login_url = reverse(settings.LOGIN_URL)
                if request.method == "GET":
                    login_url += "?" + urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(login_url)
        return self.get_response(request)


# Pages a user who still owes a step may open (URL names); everything else redirects to the step.
ALWAYS_OPEN = {"logout", "login", "health", "favicon"}
TOTP_OPEN = ALWAYS_OPEN | {"accounts:otp", "accounts:otp_verify"}
PASSWORD_OPEN = ALWAYS_OPEN | {"accounts:password_change"}
STEP_PAGES = {"otp": "accounts:otp", "otp_verify": "accounts:otp_verify", "password_change": "accounts:password_change"}


def _url_name(request: HttpRequest) -> str:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return ""


class AccountGateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path_info.startswith(settings.STATIC_URL):
            return self.get_response(request)
        step = policy.pending_step(user)
        request.account_pending_step = step  # the menu is left out until the step is done (common/menu.py)
        if step is None:
            return self.get_response(request)
        name = _url_name(request)
        open_names = TOTP_OPEN if step in ("otp", "otp_verify") else PASSWORD_OPEN
        if name in open_names:
            return self.get_response(request)
        target = reverse(STEP_PAGES[step])
        if request.method == "GET" and step != "password_change":
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)
