"""Settings for dialwhom: one file, decided by the environment.

Development defaults are safe and need nothing set; production differs only by
environment variables (docs/configuration.md lists them all).
"""

import datetime as dt
import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated environment variable."""
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


DEBUG = env_bool("DJANGO_DEBUG")
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "django-insecure-development-only-set-DJANGO_SECRET_KEY"
)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "phonenumber_field",
    "axes",
    "agents",
    "routing",
    "pages",
    # The deployment checks of `manage.py check --deploy` (dialwhom_project/checks.py).
    "dialwhom_project.apps.DialwhomProjectConfig",
]

MIDDLEWARE = [
    # First: bounds and times the Exotel webhooks (dialwhom_project/middleware.py).
    "dialwhom_project.middleware.WebhookGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The admin's times on the clock of the supervisor's groups.
    "pages.supervisor.clock.GroupClockMiddleware",
    # Last, as django-axes asks: turns a lockout into its 429 page.
    "axes.middleware.AxesMiddleware",
]

# The admin login locks a username at one address out after repeated failures.
AUTHENTICATION_BACKENDS = [
    "dialwhom_project.authentication.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("DIALWHOM_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(
    minutes=int(os.environ.get("DIALWHOM_LOGIN_LOCKOUT_MINUTES", "30"))
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no banner on every start; lockouts are still logged

ROOT_URLCONF = "dialwhom_project.urls"
WSGI_APPLICATION = "dialwhom_project.wsgi.application"

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
            ],
        },
    },
]

# Database: DATABASE_URL unset means the embedded SQLite file; postgres:// means
# PostgreSQL. Both are tuned so that Exotel's 10-second limit is never at risk.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# Behind PgBouncer in transaction mode (deploy/pgbouncer/) a server connection
# serves one transaction at a time, so nothing may outlive one: no prepared
# statements (PgBouncer before 1.21 cannot keep them), no cursors held across
# transactions, and no startup options (PgBouncer refuses them; its
# connect_query sets the statement timeout instead).
TRANSACTION_POOLING = env_bool("DIALWHOM_DB_TRANSACTION_POOLING")
PREPARED_STATEMENTS = env_bool(
    "DIALWHOM_DB_SERVER_SIDE_BINDING", not TRANSACTION_POOLING
)
PREPARE_THRESHOLD = int(os.environ.get("DIALWHOM_DB_PREPARE_THRESHOLD", "2"))
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            # gunicorn runs sync workers: one persistent connection per worker.
            conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "600")),
            # No SELECT 1 round trip per request: routing.outage.deadline polls the
            # socket of a reused connection instead and replaces a dead one.
            conn_health_checks=False,
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {
                # Bound parameters, and psycopg preparing each statement a
                # connection has run PREPARE_THRESHOLD times (Django passes
                # prepare_threshold=None, never preparing, unless it is set); off
                # behind a pooler that cannot keep them (PgBouncer in transaction
                # mode). psycopg drops them all at every rollback, which the
                # routing requests avoid (docs/benchmark.md).
                "server_side_binding": PREPARED_STATEMENTS,
                "prepare_threshold": PREPARE_THRESHOLD if PREPARED_STATEMENTS else None,
                "connect_timeout": int(
                    os.environ.get("DIALWHOM_DB_CONNECT_TIMEOUT", "2")
                ),
                # A prepared statement keeps its generic plan: PostgreSQL would
                # otherwise plan the candidate statement afresh on most calls
                # (docs/benchmark.md: 1,332 plans in 1,679 calls; generic, +21%).
                "options": "-c statement_timeout={} -c plan_cache_mode={}".format(
                    os.environ.get("DIALWHOM_DB_STATEMENT_TIMEOUT_MS", "3000"),
                    os.environ.get("DIALWHOM_DB_PLAN_CACHE_MODE", "force_generic_plan"),
                ),
            }
        )
        if TRANSACTION_POOLING:
            del DATABASES["default"]["OPTIONS"]["options"]
            DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get(
                "DIALWHOM_SQLITE_PATH", str(BASE_DIR / "db.sqlite3")
            ),
            "OPTIONS": {
                # Writers take the lock up front instead of failing on upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 5,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "Asia/Kolkata"
USE_I18N = True
USE_TZ = True
# One date and time format on every page (24-hour): dialwhom_project/formats/.
FORMAT_MODULE_PATH = ["dialwhom_project.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PHONENUMBER_DEFAULT_REGION = os.environ.get("PHONENUMBER_DEFAULT_REGION", "IN")
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "E164"

# Exotel does not sign its requests: a secret in the path authenticates them.
# During a rotation both the new and the previous token are accepted.
DIALWHOM_WEBHOOK_TOKENS = [
    token
    for token in (
        os.environ.get("DIALWHOM_WEBHOOK_TOKEN", ""),
        os.environ.get("DIALWHOM_WEBHOOK_TOKEN_PREVIOUS", ""),
    )
    if token
]

# The address Exotel reaches this service at (scheme and host, e.g. behind a
# tunnel), for the absolute events URL in Programmable Connect answers; empty:
# the request's own.
DIALWHOM_PUBLIC_URL = os.environ.get("DIALWHOM_PUBLIC_URL", "").strip()

# Database outages (README, "Failure behaviour"): a request still waiting on
# PostgreSQL after DIALWHOM_DB_DEADLINE_MS probes it, and gives up if it does not
# answer within DIALWHOM_DB_PROBE_MS (as does a new connection), then answers from
# the last-known on-duty numbers that each process keeps on disk.
# 400 + 300: a hung server is cut 0.7 s into a request, leaving the rest of the
# second for the degraded answer on a loaded machine (tests/routing/
# test_outage_load.py measured up to 1.06 s with 500 + 300 under load 7).
DIALWHOM_DB_DEADLINE_MS = int(os.environ.get("DIALWHOM_DB_DEADLINE_MS", "400"))
DIALWHOM_DB_PROBE_MS = int(os.environ.get("DIALWHOM_DB_PROBE_MS", "300"))
DIALWHOM_LAST_KNOWN_DIR = Path(
    os.environ.get(
        "DIALWHOM_LAST_KNOWN_DIR",
        Path(tempfile.gettempdir()) / "dialwhom-last-known",
    )
)
DIALWHOM_LAST_KNOWN_REFRESH_SECONDS = int(
    os.environ.get("DIALWHOM_LAST_KNOWN_REFRESH_SECONDS", "60")
)
# Once a process has found the database unreachable, it answers from the
# last-known list at once and probes the server this often in the background.
DIALWHOM_BREAKER_PROBE_INTERVAL_MS = int(
    os.environ.get("DIALWHOM_BREAKER_PROBE_INTERVAL_MS", "250")
)
# Requests the database could not take (outcomes, degraded answers) are kept
# here, one append-only file per process, and replayed when it is back
# (docs/operations.md). Keep it on a disk that survives a reboot in production.
DIALWHOM_SPOOL_DIR = Path(
    os.environ.get(
        "DIALWHOM_SPOOL_DIR", DIALWHOM_LAST_KNOWN_DIR.parent / "dialwhom-spool"
    )
)
DIALWHOM_SPOOL_MAX_BYTES = int(
    os.environ.get("DIALWHOM_SPOOL_MAX_BYTES", str(16 * 1024 * 1024))
)
DIALWHOM_SPOOL_REPLAY_SECONDS = float(
    os.environ.get("DIALWHOM_SPOOL_REPLAY_SECONDS", "5")
)
# /metrics answers 404 unless the scraper sends "Authorization: Bearer <this>".
DIALWHOM_METRICS_TOKEN = os.environ.get("DIALWHOM_METRICS_TOKEN", "")

# Behind a TLS-terminating proxy, trust its X-Forwarded-Proto header.
if env_bool("DJANGO_BEHIND_HTTPS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT")
# Off by default so the quick start works over plain http on localhost.
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True

# DJANGO_LOG_FORMAT=json: one JSON object per line (the webhook log carries
# CallSid, group, numbers, status, milliseconds and the degraded flag as fields).
LOG_FORMAT = os.environ.get("DJANGO_LOG_FORMAT", "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(
        f"DJANGO_LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Both mask the webhook token and other secrets in every line, tracebacks
    # and Django's "Bad Request: /exotel/..." lines included.
    "formatters": {
        "plain": {
            "()": "dialwhom_project.logging.MaskingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "dialwhom_project.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}
    },
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
    },
}
