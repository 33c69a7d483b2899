"""Settings, read from the environment (and an optional `.env` file beside manage.py, or the file DJANGO_ENV_FILE
names).

Every setting the operator may change is listed in README.md under 「設定」. Parsers fail fast: a malformed
value stops the process at start-up instead of surfacing as a wrong behaviour later.

Defaults make `make run` work on a bare machine: SQLite in `var/` and a Celery broker that needs no server (kombu's
filesystem transport in `var/broker/`). Production sets DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis).
"""

import importlib.util
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
# `make run` writes a development .env with a generated DJANGO_SECRET_KEY (scripts/dev_env.py), so that manage.py
# also runs outside make; variables already in the environment win over the file.
_env_file = Path(env.str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env")))
if _env_file.exists():
    env.read_env(str(_env_file))

# Where the embedded defaults keep their state (SQLite database, filesystem broker, beat schedule, heartbeat).
VAR_DIR = Path(env.str("WARD_VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core -----------------------------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me"  # noqa: S105 - refused below outside DEBUG
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET)
if SECRET_KEY == _DEV_SECRET and not DEBUG and not env.bool("DJANGO_ALLOW_DEV_SECRET", default=False):
    raise environ.ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false (set DJANGO_ALLOW_DEV_SECRET=true for a demo)."
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# The ward this instance serves: its 地方公共団体コード (6 digits with check digit). Default: 新宿区.
WARD_LG_CODE = env.str("WARD_LG_CODE", default="131041")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "guardian",
    "auditlog",
    "common",
    "registry",
    "koseki_fuhyo",
    "transfers",
    "audit",
    "operations",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
]
# Development tools (devtools/: dummy data, demo accounts, the simulated J-LIS, make run's supervisor), for
# development and tests: installed when the package is there (a checkout). config/settings_production.py removes it
# and the Docker image does not contain it (devtools/tests/test_out_of_production.py).
DEVTOOLS_APPS = ["devtools"] if importlib.util.find_spec("devtools") is not None else []
INSTALLED_APPS += DEVTOOLS_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy on every response (see Security / production)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "common.db_outage.DatabaseOutageMiddleware",  # database unreachable: 503 page, not a traceback (README)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): second factor passed in this session
    "common.middleware.AuditContextMiddleware",
    "audit.middleware.AdminAccessLogMiddleware",
    "common.middleware.AdminBadInputMiddleware",  # hostile admin query strings: 400, not 500 (logged by the line above)
    "auditlog.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",  # idle timeout, absolute lifetime (see Accounts)
    "accounts.middleware.AccountGateMiddleware",  # second factor and forced password change before any page
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a lockout into the login page with the lockout message
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "common.context_processors.ward",
                "common.context_processors.menu",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services open their own transactions
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
# A persistent connection that died with a database restart is replaced before the request uses it (one cheap check
# per request), instead of answering that request with the 503 page (measured by bench/chaos/web.py, scenario B).
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("DATABASE_CONN_HEALTH_CHECKS", default=True))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; a busy timeout instead of "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication ---------------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LockoutBackend",  # django-axes: refuses a locked-out username before the password is checked
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)  # one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

GUARDIAN_RAISE_403 = False

# django-auditlog: every change-history row carries the request (or task, or command) id of the audit context.
AUDITLOG_CID_GETTER = "common.context.current_request_id"
ANONYMOUS_USER_NAME = None  # no anonymous object permissions: every access is by a named clerk

# --- Security / production -------------------------------------------------------------------------------------
# Content-Security-Policy (django-csp 4) on every response, in development too, so that a page that needs an inline
# script or style breaks on the developer's machine and in the tests, not in production. No 'unsafe-inline' and no
# 'unsafe-eval': scripts and styles come from static/ only (common/tests/test_no_inline.py scans the templates).
# The production settings (HTTPS, secure cookies, HSTS, proxy header) are in config/settings_production.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

# --- Accounts (accounts app; README 「アカウントとログイン」) -------------------------------------------------------
# Lockout (django-axes): ACCOUNT_LOCKOUT_FAILURES failed logins for one 職員ID (existing or not) within
# ACCOUNT_LOCKOUT_MINUTES lock that ID for the same number of minutes (a cool-off; a supervisor may lift it earlier).
ACCOUNT_LOCKOUT_FAILURES = env.int("ACCOUNT_LOCKOUT_FAILURES", default=5)
ACCOUNT_LOCKOUT_MINUTES = env.int("ACCOUNT_LOCKOUT_MINUTES", default=15)
AXES_FAILURE_LIMIT = ACCOUNT_LOCKOUT_FAILURES
AXES_COOLOFF_TIME = ACCOUNT_LOCKOUT_MINUTES / 60  # hours (a number, as django-axes reads it)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # attempts while locked do not extend the lock
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # the audit chain is the log of logins
AXES_ENABLE_ADMIN = False  # lockouts are shown and lifted on /accounts/users/
AXES_VERBOSE = False
# axes.W006 asks for the client address in the lockout key; the rule here is per account (a username is locked from
# every address), which no rotation of address, user agent or cookie gets around.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# Sessions: ended after ACCOUNT_IDLE_TIMEOUT seconds without a request, and ACCOUNT_SESSION_MAX_AGE seconds after the
# login however active (absolute, not sliding). Disabling a user ends all their sessions at once.
ACCOUNT_IDLE_TIMEOUT = env.int("ACCOUNT_IDLE_TIMEOUT", default=15 * 60)
ACCOUNT_SESSION_MAX_AGE = env.int("ACCOUNT_SESSION_MAX_AGE", default=SESSION_COOKIE_AGE)
# Members of these groups must pass a TOTP second factor in every session before any page opens (empty: nobody).
ACCOUNT_REQUIRE_TOTP_FOR = tuple(g for g in env.list("ACCOUNT_REQUIRE_TOTP_FOR", default=["監督者", "運用担当"]) if g)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="住基・附票")

# --- Internationalisation ---------------------------------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語")]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static files (served by the app itself: the ward network is closed, no CDN) --------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Celery -----------------------------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # exchange tables; without it kombu writes ./control in the working directory (the repository)
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        # Publishing must fail at once when Redis is down (kombu would otherwise keep reconnecting for seconds while
        # the clerk waits): the notice is already in the outbox and the sweeper delivers it once Redis is back.
        # The worker's own reconnection is governed by broker_connection_retry / _max_retries, not by this option.
        "max_retries": 0,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = env.str("CELERY_BEAT_SCHEDULE_FILENAME", default=str(VAR_DIR / "celerybeat-schedule"))
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Notifications (transfers) ----------------------------------------------------------------------------------
# Our key pair (generate_ward_keys writes it here), or the PEM text itself in TRANSFERS_SIGN_KEY / TRANSFERS_BOX_KEY.
TRANSFERS_KEY_DIR = Path(env.str("TRANSFERS_KEY_DIR", default=str(VAR_DIR / "keys")))
TRANSFERS_SIGN_KEY = env.str("TRANSFERS_SIGN_KEY", default="")
TRANSFERS_BOX_KEY = env.str("TRANSFERS_BOX_KEY", default="")
# A received envelope's created_at may differ from our clock by at most this much (seconds).
TRANSFERS_CLOCK_WINDOW = env.int("TRANSFERS_CLOCK_WINDOW", default=300)
# Delivery: attempts before a notice is marked failed for a supervisor; exponential backoff with full jitter between
# TRANSFERS_BACKOFF_BASE and TRANSFERS_BACKOFF_MAX seconds; a claimed row whose worker died is reclaimed after
# TRANSFERS_LEASE seconds; one HTTP call waits at most TRANSFERS_HTTP_TIMEOUT seconds.
TRANSFERS_MAX_ATTEMPTS = env.int("TRANSFERS_MAX_ATTEMPTS", default=20)
TRANSFERS_BACKOFF_BASE = env.float("TRANSFERS_BACKOFF_BASE", default=1.0)
TRANSFERS_BACKOFF_MAX = env.float("TRANSFERS_BACKOFF_MAX", default=30.0)
TRANSFERS_LEASE = env.float("TRANSFERS_LEASE", default=15.0)
TRANSFERS_HTTP_TIMEOUT = env.float("TRANSFERS_HTTP_TIMEOUT", default=5.0)
# The sweeper (Celery beat) runs this often (seconds); a notice unacknowledged this long is shown as overdue.
TRANSFERS_SWEEP_INTERVAL = env.float("TRANSFERS_SWEEP_INTERVAL", default=5.0)
TRANSFERS_OVERDUE_AFTER = env.int("TRANSFERS_OVERDUE_AFTER", default=600)
# Circuit breaker per partner: after this many consecutive transport failures its notices are postponed (no attempt
# counted) for TRANSFERS_BREAKER_PAUSE seconds, doubling up to TRANSFERS_BREAKER_PAUSE_MAX. The cap stays well under
# a minute, so a partner that comes back is served again within 60 s.
TRANSFERS_BREAKER_THRESHOLD = env.int("TRANSFERS_BREAKER_THRESHOLD", default=5)
TRANSFERS_BREAKER_PAUSE = env.float("TRANSFERS_BREAKER_PAUSE", default=5.0)
TRANSFERS_BREAKER_PAUSE_MAX = env.float("TRANSFERS_BREAKER_PAUSE_MAX", default=30.0)
# A spool notice without an acknowledgement file for this long is written again (same message id).
TRANSFERS_SPOOL_RESEND_AFTER = env.int("TRANSFERS_SPOOL_RESEND_AFTER", default=600)
# One sweep queues at most this many notices per partner, so one partner's backlog cannot fill it.
TRANSFERS_SWEEP_PER_PARTNER = env.int("TRANSFERS_SWEEP_PER_PARTNER", default=20)

# --- Seeding and batch ------------------------------------------------------------------------------------------
SEED_DEMO_RESIDENTS = env.int("SEED_DEMO_RESIDENTS", default=2_000)

# --- Exports (audit.exports: AES-encrypted ZIP files for hand-over, 管理簿) -------------------------------------
# Files wait here (0700 folder, 0600 files) until they are downloaded once, or until purge_old_exports() removes
# them EXPORT_KEEP_HOURS after they were written.
EXPORT_DIR = Path(env.str("EXPORT_DIR", default=str(VAR_DIR / "exports" / "handover")))
EXPORT_KEEP_HOURS = env.int("EXPORT_KEEP_HOURS", default=24)

# --- Audit analysis (analyze_access_logs, /audit/flags/, /audit/charts/; docs/audit-review.md) -------------------
# Office hours on working days ("HH:MM-HH:MM", ward time). Accesses outside them are flagged after_hours; any access
# on a closed day (Saturday, Sunday, a national holiday by jpholiday, 12/29-1/3) is flagged holiday.
AUDIT_OFFICE_HOURS = env.str("AUDIT_OFFICE_HOURS", default="08:30-17:15")
# Mass lookups: more persons named on pages within one hour than this (--threshold), or more distinct persons in
# one day than AUDIT_MASS_LOOKUP_PER_DAY.
AUDIT_MASS_LOOKUP_PER_HOUR = env.int("AUDIT_MASS_LOOKUP_PER_HOUR", default=200)
AUDIT_MASS_LOOKUP_PER_DAY = env.int("AUDIT_MASS_LOOKUP_PER_DAY", default=1_000)
# Denied accesses by one clerk in one day, and failed logins for one typed 職員ID in one day, that make a flag.
AUDIT_REPEATED_DENIALS = env.int("AUDIT_REPEATED_DENIALS", default=3)
AUDIT_FAILED_LOGINS = env.int("AUDIT_FAILED_LOGINS", default=3)

# Lanes of the audit hash chain: an entry is appended to a lane whose end is not locked by another transaction, so
# that up to this many requests write their access-log entries at the same time (audit/chain.py). 1 = one chain.
AUDIT_CHAIN_LANES = env.int("AUDIT_CHAIN_LANES", default=8)

# --- Retention and seals ----------------------------------------------------------------------------------------
# The daily signed seals of the audit chain (seal_audit_chain): one JSON file per day, outside the database — put
# it on a disk the database owner cannot write, and keep it in the backup (docs/database-roles.md).
AUDIT_SEAL_DIR = Path(env.str("AUDIT_SEAL_DIR", default=str(VAR_DIR / "seals")))
# purge_expired (docs/retention.md): 除票 and 除附票 are kept RETENTION_REMOVED_RECORD_YEARS after their removal
# (住民基本台帳法施行令 34条: 150 years); the payload JSON of notices acknowledged / done is blanked (digest kept)
# RETENTION_NOTICE_PAYLOAD_DAYS after that. Audit log entries are never deleted by the command (the chain is kept):
# RETENTION_AUDIT_LOG_YEARS is read only to report what a rule would reach (empty: no rule).
STATUTORY_REMOVED_RECORD_YEARS = 150  # a minimum set by law: a smaller value is refused, never applied
RETENTION_REMOVED_RECORD_YEARS = env.int("RETENTION_REMOVED_RECORD_YEARS", default=STATUTORY_REMOVED_RECORD_YEARS)
if RETENTION_REMOVED_RECORD_YEARS < STATUTORY_REMOVED_RECORD_YEARS:
    raise environ.ImproperlyConfigured(
        f"RETENTION_REMOVED_RECORD_YEARS must be at least {STATUTORY_REMOVED_RECORD_YEARS} "
        f"(住民基本台帳法施行令34条: 除票・除附票は消除から150年保存), got {RETENTION_REMOVED_RECORD_YEARS}."
    )
RETENTION_NOTICE_PAYLOAD_DAYS = env.int("RETENTION_NOTICE_PAYLOAD_DAYS", default=5 * 365)
RETENTION_AUDIT_LOG_YEARS = env.int("RETENTION_AUDIT_LOG_YEARS", default=None)

# --- Backup (backup, restore_check, jlis_bulk_export; README 「バックアップと復元の確認」) ---------------------------
# Encrypted backup sets (0700 folders, 0600 files) go to BACKUP_DIR; the newest BACKUP_KEEP are kept. The key is
# BACKUP_KEY (base64 of 32 random bytes) or a file BACKUP_KEY_FILE holding it — never inside BACKUP_DIR.
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(VAR_DIR / "backups")))
BACKUP_KEEP = env.int("BACKUP_KEEP", default=14)
BACKUP_KEY = env.str("BACKUP_KEY", default="")
BACKUP_KEY_FILE = env.str("BACKUP_KEY_FILE", default="")
# pg_dump / pg_restore of the server's major version: this directory, else /usr/lib/postgresql/<major>/bin, else PATH.
BACKUP_PG_BIN_DIR = env.str("BACKUP_PG_BIN_DIR", default="")
# restore_check connects here to create and drop its scratch database (the role needs CREATEDB).
BACKUP_MAINTENANCE_DB = env.str("BACKUP_MAINTENANCE_DB", default="postgres")
# jlis_bulk_export writes its files here unless --output is given.
JLIS_EXPORT_DIR = Path(env.str("JLIS_EXPORT_DIR", default=str(VAR_DIR / "exports" / "jlis")))

# --- Logging: never personal data. Log ids, not names or addresses. --------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
