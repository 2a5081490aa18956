"""Django settings. Every value comes from the environment (see backend/env.py and docs/development.md)."""

import base64
import secrets
from collections.abc import Callable
from pathlib import Path

import dj_database_url
import django_stubs_ext

from backend.env import BASE_DIR, env, env_bool, env_list

django_stubs_ext.monkeypatch()

DEBUG = env_bool("DEBUG", True)
RUN_DIR = Path(env("IPMARKET_RUN_DIR", str(BASE_DIR / ".run")))


def _secret(name: str, make: "Callable[[], str]") -> str:
    """A secret from the environment; in development a random one kept in the git-ignored run folder
    (made once, so restarts keep sessions, encrypted deposits and signatures valid)."""
    value = env(name, "")
    if value:
        return value
    if not DEBUG:
        raise RuntimeError(f"{name} must be set when DEBUG is off")
    path = RUN_DIR / name.lower()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _b64_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


SECRET_KEY = _secret("SECRET_KEY", lambda: secrets.token_urlsafe(50))
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "graphene_django",
    "marketplace",
    "matching",
    "escrow",
    "backend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The built web app's assets and the admin's static files, straight from the ASGI server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "backend.urls"
ASGI_APPLICATION = "backend.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {
    "default": dj_database_url.parse(env("DATABASE_URL"), conn_max_age=60, conn_health_checks=True),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
CHANNEL_LAYERS = {
    "default": {
        # Pub/sub: one Redis connection per process fans wake-ups out to its sockets, and it re-subscribes
        # after a Redis restart. Wake-ups are lossy by design; the deal-room log is what counts.
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": env("CHANNELS_PREFIX", "ipmarket:asgi")},
    },
}
REALTIME_REDIS_PREFIX = env("REALTIME_REDIS_PREFIX", "ipmarket:rt")  # presence, typing, rate limits
DEAL_ROOM_MAX_MESSAGE_CHARS = int(env("DEAL_ROOM_MAX_MESSAGE_CHARS", "4000"))
# Messages one user may send per window (seconds), across rooms.
DEAL_ROOM_RATE_LIMIT = (int(env("DEAL_ROOM_RATE_MESSAGES", "30")), int(env("DEAL_ROOM_RATE_WINDOW", "60")))
# Participants away from a room get one digest of what they missed, once the room has been quiet this long.
DEAL_ROOM_DIGEST_DELAY = int(env("DEAL_ROOM_DIGEST_DELAY", "120"))
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "ipmarket",
    },
}

ELASTICSEARCH_URL = env("ELASTICSEARCH_URL")
# Every index name starts with this prefix, so tests and the demo never touch each other's indices.
ELASTICSEARCH_INDEX_PREFIX = env("ELASTICSEARCH_INDEX_PREFIX", "ipmarket")

STRIPE_API_BASE = env("STRIPE_API_BASE")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = _secret("STRIPE_WEBHOOK_SECRET", lambda: "whsec_" + secrets.token_hex(24))
# Stripe-Signature timestamps older (or newer) than this are refused: a captured request cannot be replayed.
STRIPE_WEBHOOK_TOLERANCE_SECONDS = int(env("STRIPE_WEBHOOK_TOLERANCE_SECONDS", "300"))

# --- Escrow (docs/escrow.md) ---
# Key-encryption keys that wrap each deposit's data key: "id:base64(32 bytes)" entries, comma-separated.
# New deposits use ESCROW_ACTIVE_KEK; `manage.py rotate_kek` re-wraps older data keys under it.
ESCROW_KEKS = env("ESCROW_KEKS", "") or f"dev1:{_secret('ESCROW_DEV_KEK', _b64_key)}"
ESCROW_ACTIVE_KEK = env("ESCROW_ACTIVE_KEK", ESCROW_KEKS.split(",")[-1].split(":")[0])
# The platform's Ed25519 signing key (base64 of the 32-byte seed): certificates and tree heads.
ESCROW_SIGNING_KEY = _secret("ESCROW_SIGNING_KEY", _b64_key)
ESCROW_MAX_DEPOSIT_BYTES = int(env("ESCROW_MAX_DEPOSIT_BYTES", str(512 * 1024 * 1024)))
ESCROW_MAX_FILES_PER_DEPOSIT = int(env("ESCROW_MAX_FILES_PER_DEPOSIT", "50"))
# Dotted path of the payment gateway factory (escrow/payments/gateway.py).
ESCROW_GATEWAY = env("ESCROW_GATEWAY", "escrow.payments.stripe_gateway.StripeGateway")
# The stateful Stripe simulator (escrow/payments/simulated.py) the local demo uses, since stripe-mock keeps
# no state: its Redis namespace, and whether every call is also validated by stripe-mock.
ESCROW_SIMULATOR_NAMESPACE = env("ESCROW_SIMULATOR_NAMESPACE", "sim")
ESCROW_PLATFORM_FEE_BP = int(env("ESCROW_PLATFORM_FEE_BP", "300"))
# How long funds may be held in trust, and the reminders (days before the end) sent to the parties.
ESCROW_MAX_HOLD_DAYS = int(env("ESCROW_MAX_HOLD_DAYS", "90"))
ESCROW_HOLD_REMINDER_DAYS = tuple(int(d) for d in env("ESCROW_HOLD_REMINDER_DAYS", "14,7,1").split(","))
ESCROW_PLATFORM_RETURN_URL = env("ESCROW_PLATFORM_RETURN_URL", "http://127.0.0.1:8000/payouts/")
# Vault ciphertext: the local filesystem by default; S3-compatible storage in production via
# django-storages (ESCROW_STORAGE_BACKEND=storages.backends.s3.S3Storage plus its AWS_* settings).
ESCROW_STORAGE_BACKEND = env("ESCROW_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
ESCROW_STORAGE_ROOT = env("ESCROW_STORAGE_ROOT", str(RUN_DIR / "vault"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "escrow": {
        "BACKEND": ESCROW_STORAGE_BACKEND,
        "OPTIONS": {"location": ESCROW_STORAGE_ROOT}
        if ESCROW_STORAGE_BACKEND.endswith("FileSystemStorage")
        else {},
    },
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
# Beat's crontab entries (backend/celery.py) are read in this zone; the patent offices' dates are local.
CELERY_TIMEZONE = env("CELERY_TIMEZONE", "Asia/Seoul")
# Encoding texts into vectors is slow on CPU: it runs on a queue of its own, taken by a dedicated worker
# (scripts/services.sh), so that it never holds up the default queue.
# Encoding is slow (CPU-bound, seconds per batch): its own queue and worker keep it from delaying the rest.
CELERY_TASK_ROUTES = {
    "matching.encode_texts": {"queue": "embeddings"},
    "matching.encode_documents": {"queue": "embeddings"},
}

# Dotted path of the text encoder class (matching/embeddings.py, docs/search-embeddings.md).
# Reciprocal rank fusion of the keyword, passage-vector and title-vector lists (docs/search.md).
MATCHING_RRF_K = int(env("MATCHING_RRF_K", "10"))
MATCHING_RRF_WEIGHTS = tuple(float(w) for w in env("MATCHING_RRF_WEIGHTS", "1,1,0.5").split(","))
MATCHING_ENCODER = env("MATCHING_ENCODER", "matching.embeddings.MultilingualE5Small")
# OpenMP threads of the default encoder's engine per process (0: all cores); OMP_NUM_THREADS, if set, wins.
MATCHING_ENCODER_THREADS = int(env("MATCHING_ENCODER_THREADS", "1"))

# --- Realtime: GraphQL over websockets (backend/realtime/protocol.py), times in seconds ---
REALTIME_INIT_TIMEOUT = float(env("REALTIME_INIT_TIMEOUT", "10"))  # connection_init must come by then
REALTIME_KEEPALIVE = float(env("REALTIME_KEEPALIVE", "15"))  # the server pings this often
REALTIME_IDLE_TIMEOUT = float(env("REALTIME_IDLE_TIMEOUT", "45"))  # nothing heard (not even pong): close
REALTIME_UNUSED_TIMEOUT = float(env("REALTIME_UNUSED_TIMEOUT", "300"))  # no live operation: close
REALTIME_MAX_OPERATIONS = int(env("REALTIME_MAX_OPERATIONS", "50"))  # live operations per connection
REALTIME_MAX_FRAME_BYTES = int(env("REALTIME_MAX_FRAME_BYTES", "65536"))

# Health probes give each dependency this long before calling it down.
HEALTHCHECK_TIMEOUT_SECONDS = float(env("HEALTHCHECK_TIMEOUT_SECONDS", "2.0"))

GRAPHENE = {
    "SCHEMA": "backend.api.schema.schema",
    "ATOMIC_MUTATIONS": True,
    # Page size limit: `first`/`last` above this are refused with an error, not silently truncated.
    "RELAY_CONNECTION_MAX_LIMIT": 100,
    "RELAY_CONNECTION_ENFORCE_FIRST_OR_LAST": True,
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ko", "Korean")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The web app (frontend/, built by `make web` into frontend/dist): index.html is answered by
# backend/spa.py for every app route; WhiteNoise serves dist/assets/ (content-hashed, so cached forever)
# and the admin's static files (from the apps' folders while DEBUG, as runserver would).
WEB_APP_DIST = Path(env("WEB_APP_DIST", str(BASE_DIR / "frontend" / "dist")))
WHITENOISE_ROOT = WEB_APP_DIST
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG


def _hashed_asset(path: str, url: str) -> bool:
    return url.startswith("/assets/")


WHITENOISE_IMMUTABLE_FILE_TEST = _hashed_asset

# Development prints mail to the process's console (the Celery log for scheduled jobs); production sets
# EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and the EMAIL_HOST_* values below.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(env("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "IP Market <noreply@ipmarket.localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # The Elasticsearch and Stripe clients log every request at INFO; only their warnings are worth reading.
    "loggers": {"elastic_transport": {"level": "WARNING"}, "stripe": {"level": "WARNING"}},
}
