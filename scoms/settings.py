"""SCOMS settings: everything that differs between machines comes from the environment.

Variables: DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS,
TIME_ZONE, EMAIL_URL-style EMAIL_* variables, SECURE_SSL_REDIRECT, STATIC_ROOT.
There is no SQLite fallback: SCOMS relies on PostgreSQL row locks, SKIP LOCKED and constraints.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

from scoms.env import (
    env_bool,
    env_int,
    env_list,
    env_str,
    redis_url_for_broker,
    redis_url_for_client,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)

_DEV_SECRET_KEY = "django-insecure-scoms-development-key-do-not-use-in-production-0123456789"  # noqa: S105 — DEBUG only
SECRET_KEY = env_str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY (at least 50 random characters) when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_htmx",
    "csp",
    "axes",
    "import_export",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "inventory",
    "orders",
    "suppliers",
    "logistics",
    "analytics",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Every /api/ error is JSON in the one shape, whatever below produced it (even DEBUG pages).
    "core.middleware.ApiErrorShapeMiddleware",
    # Hostile input (NUL, bad UTF-8, JSON too deep, body too large) → 400/413 before anything reads it.
    "core.input_guard.InputGuardMiddleware",
    # Django's, answering 503 (not 500) when the database is lost while the session is saved.
    "core.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Idle browser sessions end (SESSION_IDLE_TIMEOUT); personal data is sent no-store, private.
    "core.sessions.IdleSessionTimeoutMiddleware",
    "core.cache_control.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last, so its process_exception is asked first: a lost database answers 503, not 500.
    "core.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "scoms.urls"
WSGI_APPLICATION = "scoms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_DATABASE_URL = env_str("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/scoms")
if not _DATABASE_URL.startswith(("postgres://", "postgresql://", "pgsql://")):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://…).")
DATABASES = {
    "default": dj_database_url.parse(
        _DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    ),
}
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))
# Order intake's two statements are prepared after this many uses on a connection (orders.intake;
# Django's own queries stay client-side bound). 0 turns preparing off — needed behind PgBouncer in
# transaction mode before 1.21 (or without max_prepared_statements).
_PREPARE_THRESHOLD = env_int("DB_PREPARE_THRESHOLD", 5)
if _PREPARE_THRESHOLD > 0:
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", _PREPARE_THRESHOLD)
# The service functions own their transactions (STYLE.md): no ATOMIC_REQUESTS.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Amounts in other currencies are compared in this one (core.ExchangeRate, core.money).
BASE_CURRENCY = env_str("BASE_CURRENCY", default="CNY").strip().upper()
if not (len(BASE_CURRENCY) == 3 and BASE_CURRENCY.isascii() and BASE_CURRENCY.isalpha()):
    raise ImproperlyConfigured(f"BASE_CURRENCY must be a three-letter ISO 4217 code such as CNY, got {BASE_CURRENCY!r}.")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis / cache / Celery ----------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", default="redis://127.0.0.1:6379/0")
REDIS_CLIENT_URL = redis_url_for_client(REDIS_URL)  # redis-py's spelling (health checks, cache)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_CLIENT_URL,
        "KEY_PREFIX": "scoms",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

CELERY_BROKER_URL = redis_url_for_broker(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = env_str("TIME_ZONE", default="Asia/Shanghai")
# Longer than any countdown/ETA we use (12 h), so Redis never redelivers a scheduled task early.
# It is also how long a task held by a worker that was killed outright (not just its pool child)
# waits before another worker's start-up sweep redelivers it; reliability tests shorten it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 43200),
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_ALWAYS_EAGER = False
# Beat: one schedule, in one place. Jobs are idempotent per time slot (core.models.JobRun).
CELERY_BEAT_SCHEDULE = {
    "drain-outbox": {
        "task": "core.tasks.drain_outbox_task",
        "schedule": env_int("OUTBOX_DRAIN_SECONDS", 10),
    },
    "purge-outbox": {
        "task": "core.tasks.purge_outbox_task",
        "schedule": crontab(hour=3, minute=15),
    },
    "purge-idempotency-keys": {
        "task": "core.tasks.purge_idempotency_task",
        "schedule": crontab(minute=45),
    },
    "worker-heartbeat": {
        "task": "core.tasks.worker_heartbeat_task",
        "schedule": 60.0,
    },
    # Replenishment: every policy nightly, critical ones hourly (JobRun makes each slot run once).
    "replenishment-nightly": {
        "task": "suppliers.tasks.run_replenishment_task",
        "schedule": crontab(hour=env_int("REPLENISHMENT_NIGHTLY_HOUR", 1), minute=30),
        "kwargs": {"job": "replenishment.nightly"},
    },
    "replenishment-critical-hourly": {
        "task": "suppliers.tasks.run_replenishment_task",
        "schedule": crontab(minute=5),
        "kwargs": {"job": "replenishment.critical", "critical_only": True},
    },
}
OUTBOX_KEEP_DAYS = env_int("OUTBOX_KEEP_DAYS", 14)

# --- Purchasing -----------------------------------------------------------------------------
# Planner drafts below this total (in the PO currency) are approved and sent at once; 0 = never.
REPLENISHMENT_AUTO_APPROVE_BELOW = Decimal(env_str("REPLENISHMENT_AUTO_APPROVE_BELOW", default="0"))
# Receipts may exceed the ordered quantity by this much (percent) before they are refused.
PURCHASING_OVER_RECEIPT_TOLERANCE_PERCENT = Decimal(env_str("PURCHASING_OVER_RECEIPT_TOLERANCE_PERCENT", default="0"))
# Measured lead times replace the stated ones once this many receipts exist.
REPLENISHMENT_MIN_RECEIPTS_FOR_LEAD_TIME = env_int("REPLENISHMENT_MIN_RECEIPTS_FOR_LEAD_TIME", 5)
# A supplier whose OTIF % over SUPPLIER_STANDING_DAYS is below this warns on new POs (or blocks).
SUPPLIER_MIN_OTIF_PERCENT = Decimal(env_str("SUPPLIER_MIN_OTIF_PERCENT", default="80"))
SUPPLIER_STANDING_DAYS = env_int("SUPPLIER_STANDING_DAYS", 180)
SUPPLIER_STANDING_MIN_LINES = env_int("SUPPLIER_STANDING_MIN_LINES", 5)
SUPPLIER_BLOCK_BELOW_STANDING = env_bool("SUPPLIER_BLOCK_BELOW_STANDING", default=False)
COMPANY_NAME = env_str("COMPANY_NAME", default="SCOMS Trading Co., Ltd.")
COMPANY_ADDRESS = env_str("COMPANY_ADDRESS", default="1 Century Avenue, Pudong, Shanghai 200120, China")
PURCHASE_ORDER_TERMS = env_str(
    "PURCHASE_ORDER_TERMS",
    default="Deliver to the warehouse named above, quoting the PO number on the delivery note. "
    "Quantities beyond the order may be refused. Invoices quote the PO number.",
)

# --- Auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "login"
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Reverse proxies in front of gunicorn that append to X-Forwarded-For (0 = none): lockouts then
# count the address the outermost trusted proxy saw, not one the client made up (core.client_ip).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
# What axes records as the username, cut to its column's length (the login forms refuse longer).
AXES_USERNAME_CALLABLE = "core.login.axes_username"
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
# A browser session ends after this many seconds without a request (core.sessions), besides
# SESSION_COOKIE_AGE (Django's default, 14 days) from log-in.
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 8 * 3600)
# Password reset e-mails asked for per client address, and per e-mail address, per hour (core.accounts).
PASSWORD_RESET_RATE_LIMIT = env_int("PASSWORD_RESET_RATE_LIMIT", 5)

# --- I18N -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", default=str(BASE_DIR / "var" / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Every template asks for static files through {% static %}, so the unhashed copies are never
# served; dropping them halves what collectstatic compresses. Source maps are only fetched by
# browser dev tools and are the biggest files (API docs bundles): served, but not pre-compressed.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
MEDIA_ROOT = BASE_DIR / "var" / "media"

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default="SCOMS <scoms@localhost>")
SITE_URL = env_str("SITE_URL", default="http://127.0.0.1:8000")

# --- Security -------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
DATA_UPLOAD_MAX_NUMBER_FILES = 10
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.ModelPermissions"],
    # JSON only, nested at most core.input_guard.MAX_JSON_DEPTH levels.
    "DEFAULT_PARSER_CLASSES": ["core.api.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["core.api_filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SCOMS API",
    "DESCRIPTION": "Supply chain order management: orders, stock, purchasing, logistics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.statuses.OrderStatus",
        "PurchaseOrderStatusEnum": "suppliers.statuses.PurchaseOrderStatus",
    },
}

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
