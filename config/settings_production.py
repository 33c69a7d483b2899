"""Production settings: config/settings.py plus HTTPS only, secure cookies and HSTS.

Selected with DJANGO_SETTINGS_MODULE=config.settings_production (the Docker image sets it; README 「本番の設定」).
`python manage.py check --deploy` is clean under these settings (common/tests/test_deploy_check.py).

The application speaks plain HTTP to the ward's TLS reverse proxy, which terminates TLS. Django then needs to know
that the browser's request was HTTPS: with DJANGO_BEHIND_TLS_PROXY=true it trusts X-Forwarded-Proto: https, which
the proxy must set on every request and must strip from what the client sent. Without the switch, no header is
trusted and every request counts as plain HTTP (so SECURE_SSL_REDIRECT would redirect forever behind a proxy).

Refused at start-up: DJANGO_DEBUG=true and a missing, built-in or weak secret (DJANGO_ALLOW_DEV_SECRET has no effect
here). The development tools (devtools/) are not installed.
"""

import environ

from .settings import *  # noqa: F403
from .settings import _DEV_SECRET, INSTALLED_APPS, SECRET_KEY, env

if env.bool("DJANGO_DEBUG", default=False):
    raise environ.ImproperlyConfigured("DJANGO_DEBUG must be false under config.settings_production.")
if SECRET_KEY == _DEV_SECRET:
    raise environ.ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set under config.settings_production (the built-in development key is refused)."
    )
# The same rule as Django's deploy check (security.W009), enforced at start-up rather than only reported.
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-"):
    raise environ.ImproperlyConfigured(
        "DJANGO_SECRET_KEY is too weak: at least 50 random characters "
        '(python3 -c "import secrets; print(secrets.token_urlsafe(50))").'
    )
DEBUG = False
# No development tools (dummy data, demo accounts, simulators): config/settings.py adds them in a checkout.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app.partition(".")[0] != "devtools"]

# --- HTTPS --------------------------------------------------------------------------------------------------------
# Behind the TLS proxy: the scheme the browser used, from the proxy's X-Forwarded-Proto.
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Any plain-HTTP request is redirected to HTTPS, except the health check, which the container's own probe and the
# load balancer call over plain HTTP on the private side of the proxy (it answers "ok" or an error, never data).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# HSTS: browsers use HTTPS only for this host for a year. includeSubDomains: the application has a host name of its
# own (e.g. juki.example.lg.jp) and nothing below it serves plain HTTP. No preload: the preload list takes only a
# registrable domain whose every subdomain is HTTPS, which the ward's application host is not for the ward to
# promise (and the closed ward network does not use the browsers' list). Django's check for the preload directive
# (security.W021) is therefore silenced while DJANGO_HSTS_PRELOAD is false — a decision, documented in the README.
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "security.W021"]

# --- Cookies and headers ------------------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
