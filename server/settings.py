"""netzn settings, read from the environment (see the table in README.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    # Optional two-factor sign-in with TOTP apps (accounts/twofactor.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Serves the API docs page's Swagger UI from our own origin (the CSP allows no CDN).
    "ninja",
    "realtime",
    "accounts",
    "notifications",
    "chat",
    "groups",
    "board",
    "engagement",
    "server",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "realtime.middleware.ContentSecurityPolicyMiddleware",
    "realtime.middleware.RequestGuardMiddleware",
    "server.errors.GermanNotFoundInDebug",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "engagement.middleware.LastVisitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "server.urls"
ASGI_APPLICATION = "asgi.application"

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
                "notifications.context.unread_count",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'netzn.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# PostgreSQL: Django's psycopg pool, one per process, shared by the HTTP requests (a
# thread each under ASGI) and the WebSocket consumer's database threads. A request
# that gets no connection within the timeout is answered 503 with Retry-After. The
# connection budget: docs/operations.md.
DATABASE_POOL_MAX_SIZE = int(os.environ.get("DATABASE_POOL_MAX_SIZE", "20")) if IS_POSTGRES else 0
if DATABASE_POOL_MAX_SIZE > 0:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(int(os.environ.get("DATABASE_POOL_MIN_SIZE", "2")), DATABASE_POOL_MAX_SIZE),
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "5")),
        # Connections above min_size idle that long are closed: a burst leaves none behind.
        "max_idle": float(os.environ.get("DATABASE_POOL_MAX_IDLE", "60")),
    }
    # The pool replaces Django's persistent connections (Django requires 0 with it).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
if not IS_POSTGRES:
    # SQLite (the embedded default): one writer at a time. Write transactions start
    # IMMEDIATE (take the write lock at BEGIN, so a reader never has to upgrade and
    # fail with "database is locked"), wait up to 20 s for the lock, and WAL lets
    # readers go on beside the writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One Redis URL, or several separated by commas: the channel layer spreads its groups
# over all of them (shards, docs/operations.md); the first one also holds the cache,
# the rate limiter's buckets and the connection counts.
REDIS_URLS = [url.strip() for url in os.environ.get("REDIS_URL", "").split(",") if url.strip()]
REDIS_URL = REDIS_URLS[0] if REDIS_URLS else ""
# Prefix of the channel layer's Redis channels: processes sharing a prefix form one
# server (the layer reads it when it starts, so the test suite may change it).
NETZN_REDIS_PREFIX = os.environ.get("NETZN_REDIS_PREFIX", "netzn")
# The transport between processes (realtime/layers.py): channels-redis' pub/sub layer
# with Redis, Channels' in-memory layer in the embedded default (one process).
if REDIS_URLS:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "realtime.layers.RedisPubSubLayer",
            "CONFIG": {"hosts": REDIS_URLS},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "realtime.layers.InMemoryLayer",
            "CONFIG": {"capacity": 100_000},
        }
    }
# Broadcast frames written straight to daphne's sockets (realtime/wire.py); 0 sends
# every frame through the ordinary ASGI `send`.
NETZN_DIRECT_WRITE = os.environ.get("NETZN_DIRECT_WRITE", "1") != "0"
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "netzn",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
OTP_TOTP_ISSUER = "netzn"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "de")
LANGUAGES = [("de", "Deutsch")]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
# Uploaded pictures (profile photos, company logos) go through Django's storage API;
# the default FileSystemStorage keeps them here. They are served by views that check
# who may see them, never from MEDIA_URL by a web server.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", "") or VAR_DIR / "media")
MEDIA_URL = "/medien/"
NETZN_IMAGE_MAX_BYTES = int(os.environ.get("NETZN_IMAGE_MAX_BYTES", str(5 * 2**20)))
# Files go through Django's storage API: a local directory (MEDIA_ROOT) by default,
# any S3-compatible store when NETZN_S3_BUCKET is set (django-storages, the optional
# `s3` extra; docs/operations.md, "Files").
_S3_BUCKET = os.environ.get("NETZN_S3_BUCKET", "").strip()
_DEFAULT_STORAGE: dict[str, Any] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if _S3_BUCKET:
    _DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _S3_BUCKET,
            "endpoint_url": os.environ.get("NETZN_S3_ENDPOINT_URL", "").strip() or None,
            "region_name": os.environ.get("NETZN_S3_REGION", "").strip() or None,
            "location": os.environ.get("NETZN_S3_PREFIX", "").strip(),
            "addressing_style": os.environ.get("NETZN_S3_ADDRESSING_STYLE", "").strip() or None,
            # Files are private: the server reads them and serves them after its own
            # access check, never by a public bucket URL.
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
STORAGES = {
    "default": _DEFAULT_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Attachments (docs/attachments.md): at most this many bytes a file (10 MiB).
NETZN_ATTACHMENT_MAX_BYTES = int(os.environ.get("NETZN_ATTACHMENT_MAX_BYTES", str(10 * 2**20)))
# A request body past this is refused by daphne (413) before it is read any further
# (realtime/bodylimit.py); the slack is for the multipart framing around one file.
NETZN_REQUEST_MAX_BYTES = int(
    os.environ.get("NETZN_REQUEST_MAX_BYTES", str(NETZN_ATTACHMENT_MAX_BYTES + 2**20))
)
# Every multipart file is counted as it arrives and refused past the attachment limit
# (realtime/uploads.py); files above FILE_UPLOAD_MAX_MEMORY_SIZE spool to disk.
FILE_UPLOAD_HANDLERS = [
    "realtime.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 2**20

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "netzn <noreply@netzn.local>")
# Absolute base for links in e-mails (no request at hand when a worker sends them).
# Without SITE_URL it is where `make run` serves: HOST and PORT (the Makefile's
# variables, which reach the server as environment), a wildcard host as 127.0.0.1.
_SERVE_HOST = os.environ.get("HOST", "").strip() or "127.0.0.1"
if _SERVE_HOST in {"0.0.0.0", "::", "[::]"}:  # noqa: S104 (a wildcard bind is not a link)
    _SERVE_HOST = "127.0.0.1"
SITE_URL = (
    os.environ.get("SITE_URL", "").strip()
    or f"http://{_SERVE_HOST}:{os.environ.get('PORT', '').strip() or '8000'}"
).rstrip("/")

CSRF_FAILURE_VIEW = "server.errors.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the JS client reads it to send X-CSRFToken
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_errors_on_one_line": {"()": "server.log_filters.ClientErrorsOnOneLine"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["client_errors_on_one_line"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Application settings.
NETZN_MESSAGE_MAX_CHARS = 4000
NETZN_FRAME_MAX_BYTES = 64 * 1024
NETZN_BACKLOG_LIMIT = int(os.environ.get("NETZN_BACKLOG_LIMIT", "500"))
NETZN_RATE_BURST = int(os.environ.get("NETZN_RATE_BURST", "30"))
NETZN_RATE_PER_SECOND = float(os.environ.get("NETZN_RATE_PER_SECOND", "10"))
# Frames a slow client may have queued before the server disconnects it; it
# catches up by seq when it returns.
NETZN_CONNECTION_QUEUE_LIMIT = int(os.environ.get("NETZN_CONNECTION_QUEUE_LIMIT", "2000"))
# Bytes written to a socket that its client has not taken yet, before it is disconnected.
NETZN_CONNECTION_BUFFER_BYTES = int(os.environ.get("NETZN_CONNECTION_BUFFER_BYTES", str(8 * 2**20)))
# WebSocket connections one person may hold at once, across all processes (HTTP 429
# past it; realtime/connections.py).
NETZN_MAX_CONNECTIONS_PER_USER = int(os.environ.get("NETZN_MAX_CONNECTIONS_PER_USER", "50"))
# WebSocket handshakes one process works on at once (request arrived, not yet
# accepted or refused); more wait their turn before any database work, so a
# reconnect storm is served in turns instead of saturating the process
# (realtime/admission.py, docs/performance.md).
NETZN_MAX_HANDSHAKES_IN_FLIGHT = int(os.environ.get("NETZN_MAX_HANDSHAKES_IN_FLIGHT", "64"))
# A handshake past that limit waits for a place, first come first served, while the
# queue before it is done within this many seconds at the process's rate (inside
# daphne's `--websocket_connect_timeout`, 30 s on `make run`'s command line, less the
# gate's 2 s reserve); beyond, it is refused with HTTP 503 and Retry-After. Waiting is
# cheaper than a refusal and its retry (docs/performance.md, "Reconnect storm").
NETZN_HANDSHAKE_WAIT_SECONDS = float(os.environ.get("NETZN_HANDSHAKE_WAIT_SECONDS", "28"))

# Presence (realtime/presence.py): a process's connections expire this long after its
# last heartbeat (every third of it), so the people of a process that died are
# offline within timeout + timeout / 3 (60 s by default).
NETZN_PRESENCE_TIMEOUT_SECONDS = float(os.environ.get("NETZN_PRESENCE_TIMEOUT_SECONDS", "45"))
# Threads of the WebSocket consumer's database work. On PostgreSQL each takes a
# connection from the process's pool only while it runs a step, so they fit in the
# pool: at most DATABASE_POOL_MAX_SIZE (the default leaves HTTP requests room).
NETZN_DB_THREADS = int(
    os.environ.get("NETZN_DB_THREADS")
    or (min(16, max(1, DATABASE_POOL_MAX_SIZE * 3 // 4)) if DATABASE_POOL_MAX_SIZE else 16)
)
if DATABASE_POOL_MAX_SIZE and NETZN_DB_THREADS > DATABASE_POOL_MAX_SIZE:
    raise ImproperlyConfigured(
        f"NETZN_DB_THREADS ({NETZN_DB_THREADS}) must not exceed DATABASE_POOL_MAX_SIZE "
        f"({DATABASE_POOL_MAX_SIZE}): each database thread needs a pooled connection."
    )
NETZN_NOTIFICATION_EMAIL_DELAY_SECONDS = int(
    os.environ.get("NETZN_NOTIFICATION_EMAIL_DELAY_SECONDS", "600")
)


def env_action_limits(name: str) -> dict[str, tuple[int, int]]:
    """`signup=5/3600,group_create=10/86400`: budgets of rate-limited actions
    (accounts/throttle.py ACTION_LIMITS), each a count per window in seconds."""
    limits: dict[str, tuple[int, int]] = {}
    for item in env_list(name, ""):
        action, _, budget = item.partition("=")
        count, _, seconds = budget.partition("/")
        if not (action.strip() and count.strip().isdigit() and seconds.strip().isdigit()):
            raise ImproperlyConfigured(f"{name}: '{item}' is not ACTION=COUNT/SECONDS")
        limits[action.strip()] = (int(count), int(seconds))
    return limits


# Overrides of the per-action budgets (signup, password_reset, password_reset_address,
# confirmation_mail, group_create, join_request, invitation, report, reaction); unnamed actions
# keep their defaults (accounts/throttle.py, docs/accounts.md "Limits").
NETZN_ACTION_LIMITS = env_action_limits("NETZN_ACTION_LIMITS")

NETZN_LOGIN_ATTEMPTS = int(os.environ.get("NETZN_LOGIN_ATTEMPTS", "10"))
NETZN_LOGIN_WINDOW_SECONDS = int(os.environ.get("NETZN_LOGIN_WINDOW_SECONDS", "900"))

# Impressum (§ 5 DDG) and Datenschutzerklärung (Art. 13 DSGVO): who runs this netzn.
# Pages without an operator name say that the operator has not filled them in yet.
NETZN_OPERATOR_NAME = os.environ.get("NETZN_OPERATOR_NAME", "")
NETZN_OPERATOR_ADDRESS = os.environ.get("NETZN_OPERATOR_ADDRESS", "")  # lines split by "|"
NETZN_OPERATOR_REPRESENTATIVE = os.environ.get("NETZN_OPERATOR_REPRESENTATIVE", "")
NETZN_OPERATOR_EMAIL = os.environ.get("NETZN_OPERATOR_EMAIL", "")
NETZN_OPERATOR_PHONE = os.environ.get("NETZN_OPERATOR_PHONE", "")
NETZN_OPERATOR_REGISTER = os.environ.get("NETZN_OPERATOR_REGISTER", "")
NETZN_OPERATOR_VAT_ID = os.environ.get("NETZN_OPERATOR_VAT_ID", "")
NETZN_PRIVACY_OFFICER = os.environ.get("NETZN_PRIVACY_OFFICER", "")
NETZN_HOSTING_PROVIDER = os.environ.get("NETZN_HOSTING_PROVIDER", "")
# Retention (docs/privacy.md): days until `apply_retention` deletes them.
NETZN_RETAIN_NOTIFICATIONS_DAYS = int(os.environ.get("NETZN_RETAIN_NOTIFICATIONS_DAYS", "180"))
NETZN_RETAIN_REPORTS_DAYS = int(os.environ.get("NETZN_RETAIN_REPORTS_DAYS", "365"))
NETZN_RETAIN_REVOKED_TOKENS_DAYS = int(os.environ.get("NETZN_RETAIN_REVOKED_TOKENS_DAYS", "90"))
# Engagement (docs/engagement.md): a group question without a reply from anyone else
# for this long is brought to the members who can likely answer.
NETZN_UNANSWERED_AFTER_MINUTES = int(os.environ.get("NETZN_UNANSWERED_AFTER_MINUTES", "240"))
# When `netzn_cron` sends the daily digest (Europe/Berlin, HH:MM).
NETZN_DIGEST_TIME = os.environ.get("NETZN_DIGEST_TIME", "07:15")
# `make run` runs the periodic jobs on a thread of the server process every this many
# seconds (0: off; production runs `netzn_cron` from cron, docs/operations.md).
NETZN_CRON_EVERY_SECONDS = float(os.environ.get("NETZN_CRON_EVERY_SECONDS", "0"))
