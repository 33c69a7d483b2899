"""The lockout check (django-axes) as the first authentication backend.

A locked-out 職員ID is refused before the password is checked; the password hasher still runs once, so a refused
attempt costs the same time as a wrong password (and ModelBackend already hashes for an unknown ID). Without a
request (the shell, a test client's login()) there is no client to count attempts for: the check is skipped."""

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest

LOCKED_FLAG = "accounts_locked"  # set on the request when this backend refused a locked-out ID


class LockoutBackend(AxesStandaloneBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs
    ):
        if request is None:
            return None
        try:
            return super().authenticate(request, username=username, password=password, **kwargs)
        except AxesBackendPermissionDenied:
            make_password(password or "")  # the same work as checking a password
            setattr(request, LOCKED_FLAG, True)
            raise
