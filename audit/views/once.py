"""One-time tokens for the 確認 → 記録 step: the same confirmation submitted twice (double click, back button,
reload) records once. The token is issued with the 確認 page and consumed by the first commit."""

import secrets

from django.http import HttpRequest

SESSION_KEY = "audit_once_tokens"
KEEP = 20  # open confirmation pages per session; older tokens lapse


def issue(request: HttpRequest) -> str:
    token = secrets.token_urlsafe(16)
    tokens = [*request.session.get(SESSION_KEY, [])[-(KEEP - 1) :], token]
    request.session[SESSION_KEY] = tokens
    return token


def consume(request: HttpRequest, token: str) -> bool:
    tokens = list(request.session.get(SESSION_KEY, []))
    if not token or token not in tokens:
        return False
    tokens.remove(token)
    request.session[SESSION_KEY] = tokens
    return True
