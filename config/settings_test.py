"""Test overrides: the only place tests change settings globally."""

import os

os.environ.setdefault("DJANGO_ALLOW_DEV_SECRET", "true")

from .settings import *  # noqa: E402,F403

# Argon2 is deliberately slow; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303 - tests only
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the finders; no collectstatic before tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The second factor is required of 監督者 and 運用担当 in production; the suite's many supervisor personas log in
# without one. accounts/tests turn it back on (override_settings) where they test its enforcement.
ACCOUNT_REQUIRE_TOTP_FOR = ()
# Seal files of the audit chain: never the developer's var/seals (a test database would not match them).
AUDIT_SEAL_DIR = __import__("pathlib").Path(__import__("tempfile").mkdtemp(prefix="ward-test-seals-"))
