"""Settings for the SOC 2 readiness app, read from environment variables.

One module for every environment. ``APP_ENV=production`` turns on the hardening that
``manage.py check --deploy`` asks for and refuses unsafe values; the development default
runs on an embedded stack (SQLite, local files, a file-system Celery broker) with no server.
Every variable is documented in README.md.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

# DRF and drf-spectacular settings: fixed values, kept in their own module.
from soc2app.api_settings import REST_FRAMEWORK, SPECTACULAR_SETTINGS  # noqa: F401 (read by Django)
from soc2app.crypto import keys_setting

# BASE_DIR, APP_ENV, PRODUCTION, VAR_DIR: soc2app/deployment.py (the split settings read them).
from soc2app.deployment import APP_ENV, BASE_DIR, PRODUCTION, VAR_DIR  # noqa: F401
from soc2app.env import env_bool, env_int, env_list, env_str
from soc2app.schedule import beat_schedule
from tenants.activity_keys import log_keys_setting

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when APP_ENV=production")

_DEV_SECRET = "dev-insecure-secret-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105 (development only; refused in production)
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY == _DEV_SECRET):
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of 50+ characters")

# Fernet keys, newest first, that encrypt the secrets the app reads back (soc2app/crypto.py).
FIELD_ENCRYPTION_KEYS = keys_setting(
    env_list("FIELD_ENCRYPTION_KEYS", []), production=PRODUCTION, secret_key=SECRET_KEY
)
# HMAC keys of the activity log's chain and checkpoints (tenants/activity_keys.py), newest
# first: the first signs, the others still verify what they signed (rotation). Only the
# processes hold them, never the database, so no database role can re-chain the log.
ACTIVITY_LOG_KEYS = log_keys_setting(
    env_list("ACTIVITY_LOG_KEYS", []), production=PRODUCTION, secret_key=SECRET_KEY
)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])
# Trust centers' custom domains (README, Trust center): served only as a published trust
# center whose owner verified the domain by DNS, never as the app; allowed as hosts too.
TRUST_HOSTS = [h.lower().rstrip(".") for h in env_list("TRUST_HOSTS", [])]
ALLOWED_HOSTS = [*ALLOWED_HOSTS, *(h for h in TRUST_HOSTS if h not in ALLOWED_HOSTS)]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Links in e-mails: SITE_URL when set, else the address `make run` serves on (PORT).
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{env_str('PORT', '8000')}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "soc2app",
    "tenants",
    "criteria",
    "controls",
    "evidence",
    "reports",
    "monitoring",
    "people",
    "policies",
    "training",
    "risks",
    "vendors",
    "sso",
    "scim",
    "trust",
]

MIDDLEWARE = [
    # Outermost: adds Content-Security-Policy and Cache-Control to every response, error
    # pages of the middleware below (CSRF failures, 500s) included.
    "soc2app.headers.SecurityHeadersMiddleware",
    "soc2app.logs.RequestContextMiddleware",  # early: later log lines carry the request id
    "soc2app.metrics.RequestMetricsMiddleware",
    # Health probes, before the host check and the HTTPS redirect (probes call by IP, in HTTP).
    "soc2app.health.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A trust center on its own domain: that host's paths go to its pages (trust/hosts.py).
    "trust.hosts.TrustHostMiddleware",
    # Before anything reads the body (sessions, CSRF): too large or chunked is refused unread.
    "soc2app.uploads.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "soc2app.middleware.LazyMessageMiddleware",  # Django's, storage made when first used
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tenants.middleware.TenantMiddleware",
    # After it (it needs request.membership): an organization that requires single sign-on.
    "sso.middleware.RequireSsoMiddleware",
    "soc2app.middleware.DomainErrorMiddleware",
    "soc2app.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "soc2app.urls"
WSGI_APPLICATION = "soc2app.wsgi.application"

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
                "tenants.context_processors.tenant",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
# The owner role's URL (README, "Row-level security"). The application's role (DATABASE_URL)
# owns no table and is bound by row-level security, so it can neither change the schema nor
# see every organization's rows; the commands below connect as the owner instead when this is
# set. Every other process (web, worker, beat, other commands) keeps DATABASE_URL.
MIGRATE_DATABASE_URL = env_str("MIGRATE_DATABASE_URL", "")
OWNER_COMMANDS = frozenset({"migrate", "rls_apply", "create_app_role", "create_system_role"})
# The system role's URL (a role with BYPASSRLS, ``create_system_role``): the second connection
# (alias "system") that system jobs send their few cross-organization statements through
# (``tenants.rls.system``). Set it for worker, beat and command processes only, never for web
# processes. Unset, the alias is the default database and role (SQLite, development).
DATABASE_SYSTEM_URL = env_str("DATABASE_SYSTEM_URL", "")


def _management_command() -> str | None:
    """The subcommand when this process is ``manage.py``/``django-admin``, else None."""
    program = sys.argv[0] if sys.argv else ""
    is_manage = Path(program).name in {"manage.py", "django-admin"} or program.endswith(
        os.path.join("django", "__main__.py")  # python -m django
    )
    return sys.argv[1] if is_manage and len(sys.argv) > 1 else None


_owner = bool(MIGRATE_DATABASE_URL) and _management_command() in OWNER_COMMANDS
DATABASES = {
    "default": dj_database_url.parse(
        MIGRATE_DATABASE_URL if _owner else DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
DATABASES["system"] = (
    dj_database_url.parse(DATABASE_SYSTEM_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
    if DATABASE_SYSTEM_URL
    else dict(DATABASES["default"])
)
# Tests: the same test database (never a second one); ``tests/system_role.py`` makes system
# statements share the default connection (a second one could not see a test's rows).
DATABASES["system"]["TEST"] = {"MIRROR": "default"}
for _db in DATABASES.values():
    if _db["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, plus the row-level security setting kept right across rollbacks.
        _db["ENGINE"] = "tenants.backends.postgresql"
    elif _db["ENGINE"] == "django.db.backends.sqlite3":
        # Several processes (web, worker) share the file: wait for locks instead of failing.
        _db["OPTIONS"] = {**_db.get("OPTIONS", {}), "timeout": 20}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (allauth's rate limits need a real one) -------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Degrades to "nothing cached" during a Redis outage instead of failing requests.
            "BACKEND": "soc2app.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Import previews held between upload and confirm (soc2app/csv_pending.py): the confirm may reach
# another web process, so never a per-process cache: Redis when there is one, else files under
# VAR_DIR that every process on the machine shares.
CACHES["imports"] = (
    {**CACHES["default"], "KEY_PREFIX": "imports"}
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "import-previews"),
        "OPTIONS": {"MAX_ENTRIES": 1000},
    }
)

# --- Authentication (django-allauth, MFA, the client's address): soc2app/auth_settings.py ---
from soc2app.auth_settings import *  # noqa: E402, F403 (read by Django and allauth)
from soc2app.auth_settings import TRUSTED_PROXY_COUNT  # noqa: E402 (the API reads it too)
from soc2app.sso_settings import *  # noqa: E402, F403 (read by allauth and sso)

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds an SMTP connection may sit silent: a stalled mail server fails the send (the digest
# stays in the outbox for the retry) rather than holding a worker until its time limit.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
# Where the file-based backend (django.core.mail.backends.filebased.EmailBackend) writes.
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SOC 2 Readiness <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Static and uploaded files: soc2app/storage_settings.py ---------------------------------
from soc2app.storage_settings import *  # noqa: E402, F403 (read by Django and the storages)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- REST API -------------------------------------------------------------------------------
# Requests per API key, e.g. "600/min" (periods: s, min, hour, day).
API_KEY_RATE = env_str("API_KEY_RATE", "600/min").strip()
if not re.fullmatch(r"[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)", API_KEY_RATE):
    raise ImproperlyConfigured(f"API_KEY_RATE must look like 600/min, got {API_KEY_RATE!r}")
# A key's "last used" time is written at most this often (seconds), not on every request.
API_KEY_LAST_USED_INTERVAL = 60
# An API POST's Idempotency-Key and its first answer are kept this long (soc2app/api/
# idempotency.py); a second request with a key still running waits this long, then gets 409.
IDEMPOTENCY_KEY_HOURS = 24
IDEMPOTENCY_WAIT_MS = 2000

# REST_FRAMEWORK and SPECTACULAR_SETTINGS: fixed configuration, in soc2app/api_settings.py.
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT
if PRODUCTION:
    # No browsable API in production: JSON only (the HTML renderer is a second, unaudited UI).
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"]
# The interactive docs (/api/docs/) need a signed-in user; the schema (/api/schema/) stays
# public (it documents the API, it holds no data).
API_DOCS_LOGIN_REQUIRED = PRODUCTION

# --- Celery: soc2app/celery_settings.py --------------------------------------------------
from soc2app.celery_settings import *  # noqa: E402, F403 (read by Django and Celery)

CELERY_TIMEZONE = TIME_ZONE

# --- Webhooks -------------------------------------------------------------------------------
# Private, loopback and link-local targets are refused (SSRF) unless this is on (development).
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
if PRODUCTION and WEBHOOK_ALLOW_PRIVATE:
    raise ImproperlyConfigured("WEBHOOK_ALLOW_PRIVATE must be off when APP_ENV=production")
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 6, minimum=1)
# Retry n waits base * 2^(n-1) seconds (30 s, 1 min, 2 min, ...), at most 6 hours.
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30, minimum=1)
# Deliveries live in tenants/webhooks/tasks.py, which autodiscovery (tenants.tasks) misses.
CELERY_IMPORTS = ["tenants.webhooks.tasks", "monitoring.tasks"]

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Monitoring and logging: soc2app/observability_settings.py -------------------------------
from soc2app.observability_settings import (  # noqa: E402, F401 (read by Django and soc2app.metrics)
    LOG_FORMAT,
    LOG_LEVEL,
    LOGGING,
    METRICS_ADDR,
    METRICS_PORT,
    METRICS_TOKEN,
)

# --- AWS through Prowler: soc2app/prowler_settings.py ---------------------------------------
from soc2app.prowler_settings import *  # noqa: E402, F403 (read by monitoring.collectors.prowler)

# --- Product settings -----------------------------------------------------------------------
INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 7, minimum=1)
# Invitations per hour (tenants/invitation_limits.py): by one person across all their
# organizations, and by one organization across its members.
INVITATION_RATE_PER_INVITER = env_int("INVITATION_RATE_PER_INVITER", 20, minimum=1)
INVITATION_RATE_PER_ORG = env_int("INVITATION_RATE_PER_ORG", 50, minimum=1)
# Policies' acceptance links and training: soc2app/people_settings.py.
from soc2app.people_settings import *  # noqa: E402, F403 (read by policies and training)

# The framework the catalog pages and readiness use by default (its key in criteria/data).
CATALOG_FRAMEWORK = env_str("CATALOG_FRAMEWORK", "aicpa-tsc-2017")

# --- Evidence -------------------------------------------------------------------------------
EVIDENCE_MAX_UPLOAD_BYTES = env_int("EVIDENCE_MAX_UPLOAD_MB", 25, minimum=1) * 1024 * 1024
EVIDENCE_MAX_DATA_BYTES = env_int("EVIDENCE_MAX_DATA_KB", 1024, minimum=1) * 1024
EVIDENCE_GRACE_DAYS = env_int("EVIDENCE_GRACE_DAYS", 14, minimum=0)
EVIDENCE_EXPIRING_DAYS = env_int("EVIDENCE_EXPIRING_DAYS", 14, minimum=1)
# Rows per keyset batch of the freshness scan (each batch is its own short transaction).
EVIDENCE_FRESHNESS_BATCH = env_int("EVIDENCE_FRESHNESS_BATCH", 10_000, minimum=1)
# Hour of the day (UTC) when Celery beat runs the freshness check and sends the digests.
# A digest sender's claim on its outbox rows lasts this long: a sender killed mid-send leaves
# them to the hourly retry after it (longer than a batch of sends can take; see
# evidence/outbox.py).
EVIDENCE_DIGEST_CLAIM_MINUTES = 30
EVIDENCE_CHECK_HOUR = env_int("EVIDENCE_CHECK_HOUR", 6, minimum=0)
if EVIDENCE_CHECK_HOUR > 23:
    raise ImproperlyConfigured(f"EVIDENCE_CHECK_HOUR must be 0 to 23, got {EVIDENCE_CHECK_HOUR}")
# Every periodic job, and when (soc2app/schedule.py).
CELERY_BEAT_SCHEDULE = beat_schedule(evidence_check_hour=EVIDENCE_CHECK_HOUR)
# Malware scanning through ClamAV's daemon (evidence/scanning.py): a unix socket, or a host and
# port; off when neither is set. Uploads held while clamd is unreachable are rescanned by beat.
CLAMAV_SOCKET = env_str("CLAMAV_SOCKET", "")
CLAMAV_HOST = env_str("CLAMAV_HOST", "")
CLAMAV_PORT = env_int("CLAMAV_PORT", 3310, minimum=1)
CLAMAV_TIMEOUT_SECONDS = env_int("CLAMAV_TIMEOUT_SECONDS", 30, minimum=1)
CELERY_IMPORTS.append("evidence.scanning")
# Uploads up to the limit stay in memory no longer than Django's default; bigger ones spool.
DATA_UPLOAD_MAX_MEMORY_SIZE = EVIDENCE_MAX_DATA_BYTES + 64 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The first handler stops a file at EVIDENCE_MAX_UPLOAD_MB, unread beyond (soc2app/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "soc2app.uploads.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Reports --------------------------------------------------------------------------------
# The only folder WeasyPrint may load files from while rendering a report (its print CSS).
REPORT_ASSET_DIR = str(BASE_DIR / "static")
# Worker processes that lay out the parts of a large PDF at the same time (default: the CPUs).
REPORT_PDF_WORKERS = env_int("REPORT_PDF_WORKERS", min(os.cpu_count() or 1, 8), minimum=1)
# At most this many table rows per part of a large PDF (control matrix, Type 2 periods,
# evidence index; parts are otherwise cut to keep the workers evenly busy), and the size
# (evidence versions + 3 per control) from which a PDF is rendered in parallel parts.
REPORT_PDF_CHUNK_ROWS = env_int("REPORT_PDF_CHUNK_ROWS", 2500, minimum=1)
REPORT_PDF_PARALLEL_MIN_ROWS = env_int("REPORT_PDF_PARALLEL_MIN_ROWS", 1500, minimum=0)
# Hard time limit of one report generation task, in seconds.
REPORT_TASK_TIME_LIMIT = env_int("REPORT_TASK_TIME_LIMIT", 15 * 60, minimum=60)
# A report still "running" this long after it started has lost its worker (a task cannot run
# longer than its time limit): a redelivered task may claim it again.
REPORT_STALE_AFTER = env_int("REPORT_STALE_AFTER", REPORT_TASK_TIME_LIMIT, minimum=1)
# Render folders, and the age after which the leftovers sweep removes a render's folder (its
# process gone) or a stored report file no row references: longer than any render runs.
REPORT_TMP_DIR = env_str("REPORT_TMP_DIR", str(VAR_DIR / "render"))
REPORT_LEFTOVER_AFTER = env_int(
    "REPORT_LEFTOVER_AFTER", max(3600, 2 * REPORT_TASK_TIME_LIMIT), minimum=1
)

# --- Continuous monitoring ------------------------------------------------------------------
# Seconds one run of a connection's collector may take: past it the run fails with a reason
# and earlier results stay in force (the task's own Celery hard limit is a minute more).
MONITORING_RUN_TIME_LIMIT = env_int("MONITORING_RUN_TIME_LIMIT", 30 * 60, minimum=1)
# A run still "running" this long after it was claimed has lost its worker: the 5-minute beat
# sweep (or a redelivered task) takes it again, up to three times, then fails it.
MONITORING_RUN_STALE_AFTER = env_int(
    "MONITORING_RUN_STALE_AFTER", MONITORING_RUN_TIME_LIMIT + 120, minimum=1
)
if PRODUCTION and "visibility_timeout" in CELERY_BROKER_TRANSPORT_OPTIONS:  # noqa: F405
    if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= MONITORING_RUN_TIME_LIMIT + 60:  # noqa: F405
        raise ImproperlyConfigured(
            "CELERY_VISIBILITY_TIMEOUT must be longer than MONITORING_RUN_TIME_LIMIT + 60, or "
            "running monitoring runs are handed to a second worker"
        )
# Seconds "Test connection" waits for a collector's probe before saying it did not answer.
MONITORING_PROBE_TIMEOUT = env_int("MONITORING_PROBE_TIMEOUT", 20, minimum=1)
# More collectors, as "kind=dotted.path.Class" (tests register fake kinds this way, so their
# worker processes find them); the shipped kinds are in monitoring.collectors.COLLECTORS.
MONITORING_EXTRA_COLLECTORS = env_list("MONITORING_EXTRA_COLLECTORS", [])
