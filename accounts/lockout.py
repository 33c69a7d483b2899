"""Lockouts (django-axes, by 職員ID): the answer a locked-out login gets, which IDs are locked now, lifting a lock.

The answer is the login page itself, with the same status as a wrong password and one message that does not say
whether the ID exists: an unknown ID is counted and locked exactly like a known one."""

import datetime as dt
from dataclasses import dataclass

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import Max, Sum
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

LOCKED_MESSAGE = (
    "ログインに続けて失敗したため、この職員IDは一時的にログインできません。"
    "{minutes}分ほど待ってから、もう一度お試しください。お急ぎの場合は監督者に解除を依頼してください。"
)


def cool_off() -> dt.timedelta:
    return dt.timedelta(minutes=settings.ACCOUNT_LOCKOUT_MINUTES)


def message() -> str:
    return LOCKED_MESSAGE.format(minutes=settings.ACCOUNT_LOCKOUT_MINUTES)


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page (status 200, as for a wrong password) with the lockout message."""
    form = AuthenticationForm(request, data=request.POST or None)
    form.cleaned_data = {}
    form._errors = ErrorDict()  # noqa: SLF001 - no second authentication attempt, only the message
    form.add_error(None, ValidationError(message(), code="locked"))
    context = {"form": form, "next": request.POST.get("next", "") or request.GET.get("next", "")}
    return render(request, "registration/login.html", context, status=200)


@dataclass(frozen=True)
class Lock:
    username: str
    failures: int
    last_attempt: dt.datetime

    @property
    def until(self) -> dt.datetime:
        return self.last_attempt + cool_off()


def current_locks() -> list[Lock]:
    """IDs locked now: at least the limit of failures within the cool-off."""
    since = timezone.now() - cool_off()
    rows = (
        AccessAttempt.objects.filter(attempt_time__gte=since)
        .values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=settings.ACCOUNT_LOCKOUT_FAILURES)
        .order_by("username")
    )
    return [Lock(row["username"] or "", row["failures"], row["last"]) for row in rows]


def lock_of(username: str) -> Lock | None:
    return next((lock for lock in current_locks() if lock.username == username), None)


def lift(username: str) -> int:
    """Forget the failures of one ID (the lock goes with them); returns how many attempt records were removed."""
    return AxesProxyHandler.reset_attempts(username=username)
