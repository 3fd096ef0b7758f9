"""Tamarind settings: one module, driven by the environment.

Defaults suit a laptop (SQLite under ``var/``, DEBUG on). Production sets ``TAMARIND_DEBUG=0``,
``TAMARIND_SECRET_KEY``, ``TAMARIND_ALLOWED_HOSTS`` and ``DATABASE_URL``; a missing secret then stops start-up.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(os.environ.get("TAMARIND_VAR_DIR", PROJECT_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("TAMARIND_DEBUG", True)

_DEV_SECRET = "tamarind-insecure-development-key-do-not-use-in-production-0123456789"
SECRET_KEY = os.environ.get("TAMARIND_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "TAMARIND_SECRET_KEY must be set when TAMARIND_DEBUG is off (production). "
            'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    SECRET_KEY = _DEV_SECRET

ALLOWED_HOSTS = env_list("TAMARIND_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("TAMARIND_ALLOWED_HOSTS must list the host names Tamarind is served on.")
CSRF_TRUSTED_ORIGINS = env_list("TAMARIND_CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "tamarind.core.views.csrf_failure"  # the styled 403, saying the form expired

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "tamarind.core",
    "tamarind.people",
    "tamarind.audit",
    "tamarind.accounts",
    "tamarind.imports",
    "tamarind.scheduler",
    "tamarind.notifications",
    "tamarind.actions",
    "tamarind.timeline",
    "tamarind.onboarding",
    "tamarind.assignment",
    "tamarind.dashboards",
    "tamarind.usage",
    "tamarind.triage",
    "tamarind.health",
    "tamarind.success",
    "tamarind.reviews",
    "tamarind.engagement",
    "tamarind.servicedesk",
    "tamarind.stuck",
    "tamarind.journeys",
    "tamarind.webinars",
    "tamarind.renewals",
    "tamarind.contacts",
    "tamarind.surveys",
    "tamarind.cohorts",
    "tamarind.signals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tamarind.core.middleware.RequestIdMiddleware",
    "tamarind.core.middleware.DatabaseBusyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before the CSRF check, which reads the form: oversized bodies (413) and NUL characters, refused clearly.
    "tamarind.core.middleware.RequestGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The product's 404 page with DEBUG on too (`make run`), instead of Django's technical one.
    "tamarind.core.middleware.ProductNotFoundMiddleware",
]

ROOT_URLCONF = "tamarind.config.urls"
WSGI_APPLICATION = "tamarind.config.wsgi.application"

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
                "tamarind.core.context_processors.navigation",
            ],
        },
    },
]

# SQLite under var/ by default; DATABASE_URL (postgres://...) for production. Connections persist
# across requests (CONN_MAX_AGE) and are health-checked before reuse.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=int(os.environ.get("TAMARIND_CONN_MAX_AGE", "600")),
            conn_health_checks=True,
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("TAMARIND_SQLITE_PATH", str(VAR_DIR / "tamarind.sqlite3")),
            "OPTIONS": {
                # WAL lets the worker write while the web process reads. SQLite has one writer at a time:
                # IMMEDIATE takes the write lock when a transaction begins (a read transaction upgraded to a
                # write fails at once, without waiting, if another writer committed meanwhile), and a writer
                # waits up to TAMARIND_SQLITE_TIMEOUT seconds for it before "database is locked" (then the
                # web answers 503 and the worker retries). Long jobs commit in short transactions.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": float(os.environ.get("TAMARIND_SQLITE_TIMEOUT", "20")),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "people.User"
AUTHENTICATION_BACKENDS = ["tamarind.people.backends.EmailBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # core.views.home sends each role to its landing page
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TAMARIND_TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# In development WhiteNoise serves straight from the apps' static folders; production runs collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
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
MEDIA_ROOT = VAR_DIR / "media"

# Uploads: files above this size stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The largest CSV an upload may carry (bytes); larger uploads are refused with a 413.
TAMARIND_MAX_UPLOAD_BYTES = int(os.environ.get("TAMARIND_MAX_UPLOAD_BYTES", str(512 * 1024 * 1024)))
# The largest webinar attendee report (bytes); larger ones are refused with a 413.
TAMARIND_WEBINAR_REPORT_MAX_BYTES = int(os.environ.get("TAMARIND_WEBINAR_REPORT_MAX_BYTES", str(20 * 1024 * 1024)))

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("TAMARIND_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("TAMARIND_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Background work: django-tasks with the database backend (SQLite or PostgreSQL, no Redis needed).
# Set TAMARIND_TASK_BACKEND=rq (and REDIS_URL) to scale out on RQ.
_TASK_BACKEND = os.environ.get("TAMARIND_TASK_BACKEND", "database")
TASKS: dict[str, dict[str, object]]
if _TASK_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
elif _TASK_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}}
    # RQ workers must load jobs with django-tasks-rq's job class: RQ's own calls the Task object, fails with
    # "'Task' object is not callable", and the failure callback then crashes too, so the work never runs.
    RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# How often `tamarind worker` runs the scheduler tick (claims due periodic jobs), in seconds.
TAMARIND_SCHEDULER_TICK_SECONDS = float(os.environ.get("TAMARIND_SCHEDULER_TICK_SECONDS", "60"))
# A running job (import, periodic run, health recompute) whose worker has not written its heartbeat for this many
# seconds is failed as lost by the scheduler tick, and what it held released. Heartbeats come every tenth of it.
TAMARIND_JOB_LEASE_SECONDS = float(os.environ.get("TAMARIND_JOB_LEASE_SECONDS", "300"))

EMAIL_BACKEND = os.environ.get("TAMARIND_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("TAMARIND_EMAIL_HOST", "localhost")
# For the file backend (what `make run` uses): one file per sending connection.
EMAIL_FILE_PATH = os.environ.get("TAMARIND_EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_PORT = int(os.environ.get("TAMARIND_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("TAMARIND_FROM_EMAIL", "tamarind@localhost")
EMAIL_HOST_USER = os.environ.get("TAMARIND_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("TAMARIND_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("TAMARIND_EMAIL_USE_TLS", False)  # STARTTLS, usually port 587
EMAIL_USE_SSL = env_bool("TAMARIND_EMAIL_USE_SSL", False)  # implicit TLS, usually port 465
EMAIL_TIMEOUT = int(os.environ.get("TAMARIND_EMAIL_TIMEOUT", "30"))
# Where people reach Tamarind, for the links in emails (notifications, digests).
TAMARIND_BASE_URL = os.environ.get("TAMARIND_BASE_URL", "http://localhost:8000")

# Every handler carries the redacting filter (tamarind.core.logs): no token, Authorization value, password or
# session/CSRF cookie reaches a log. Django's own handlers are replaced (not kept beside ours) for the same reason.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "tamarind.core.logs.RedactSecretsFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]},
        "mail_admins": {
            "class": "tamarind.core.logs.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("TAMARIND_LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console", "mail_admins"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
# Exception reports (the debug page, error emails) hide secret-named POST fields and locals too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "tamarind.core.logs.SecretsReporterFilter"

# The pages without sign-in (survey, service desk request and unsubscribe links) allow each client this many
# requests per window of seconds ("120/600"); see tamarind.core.throttle. Behind a reverse proxy that sets
# X-Forwarded-For, turn TAMARIND_TRUST_X_FORWARDED_FOR on so that clients are told apart by their own address.
_rate = os.environ.get("TAMARIND_PUBLIC_LINK_RATE", "120/600").split("/")
TAMARIND_PUBLIC_LINK_RATE = (int(_rate[0]), int(_rate[1]))
TAMARIND_TRUST_X_FORWARDED_FOR = env_bool("TAMARIND_TRUST_X_FORWARDED_FOR", False)
# A shared cache (Redis) makes those budgets count across processes; the default is each process's own memory.
if os.environ.get("TAMARIND_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["TAMARIND_CACHE_URL"],
        }
    }

# Domain defaults (../shared/domain.md). Every figure here is a default an admin can override in the
# product's configuration pages; code reads them through tamarind.core.config, never as literals.
TAMARIND_DEFAULT_CURRENCY = "USD"
TAMARIND_TAM_CAPACITY_ARR = 3_600_000

# Surveys: the scores that count as poor (a task for the TAM, the stuck rule's and the indicator's default):
# NPS 0-6 (detractors) and CSAT 1-2. An admin changes them here (or the stuck rule's parameters, as data).
TAMARIND_SURVEYS = {"nps_poor_max": 6, "csat_poor_max": 2}
