"""Settings for the blog, driven by environment variables.

Nothing set means the embedded default: SQLite and a file-based cache under ``var/``,
no broker (Celery tasks run in-process). ``DATABASE_URL`` and ``REDIS_URL`` switch to
MySQL/MariaDB and Redis; ``DJANGO_ENV=production`` turns on the hardening and refuses
to start without ``DJANGO_SECRET_KEY``. Every variable is listed in ``.env.example``.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import tempfile
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

VAR_DIR = Path(env.str("BLOG_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
IS_PRODUCTION = DJANGO_ENV == "production"
DEBUG = env.bool("DJANGO_DEBUG", default=False)
if IS_PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off when DJANGO_ENV=production.")


def _embedded_secret_key() -> str:
    # A per-checkout key kept under var/ (never committed), so a fresh clone runs
    # without anyone choosing a secret, and sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        # Written to a private (0600) temp file, then linked into place: the key is never
        # readable by others, and processes starting at once (gunicorn workers) all end up
        # with the first one's key.
        fd, tmp_name = tempfile.mkstemp(dir=VAR_DIR, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as tmp:
                tmp.write(secrets.token_urlsafe(50))
            os.link(tmp_name, key_file)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp_name)
    return key_file.read_text().strip()


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if IS_PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_ENV=production.")
    SECRET_KEY = _embedded_secret_key()

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# The public origin of links in feeds and e-mails (and wherever no request is at hand).
# `make run` and deploy/cluster.sh set it to where they serve; production must set it
# (`check --deploy` warns otherwise).
SITE_URL_CONFIGURED = bool(env.str("BLOG_SITE_URL", default=""))
SITE_URL = env.str("BLOG_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Plugins -------------------------------------------------------------------------------
# The optional apps that plug into the articles core (articles/registry.py). Each one is
# used when its package is there: delete its folder and the site runs without it, with no
# line of this file to change. BLOG_PLUGINS narrows the list (e.g. BLOG_PLUGINS=comments).
# transfer exports and imports comments and statistics, so it comes only with both.
KNOWN_PLUGINS = ("comments", "stats", "transfer")
PLUGINS = [
    name
    for name in env.list("BLOG_PLUGINS", default=list(KNOWN_PLUGINS))
    if name in KNOWN_PLUGINS and importlib.util.find_spec(name) is not None
]
if not {"comments", "stats"} <= set(PLUGINS) and "transfer" in PLUGINS:
    PLUGINS.remove("transfer")

INSTALLED_APPS = [
    # Django's admin with the blog's site (periodic-task screens tucked away, see articles/admin_site.py).
    "articles.apps.BlogAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "django.forms",  # the widget templates, for FORM_RENDERER below
    "markdownx",
    "reversion",
    "django_celery_beat",
    "axes",
    "blog_project.apps.BlogProjectConfig",
    "articles",
    # comments, stats and transfer (import from WordPress and Ghost, export and re-import
    # the site, rebuild derived data), those present.
    *PLUGINS,
]

MIDDLEWARE = [
    # First: answers cached pages to anonymous readers before anything else runs, with the
    # headers the layers below gave the page when it was rendered (security, policies,
    # framing), in the language of the URL; fills holes (blog_project/caching/).
    "blog_project.caching.PageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Right after security, before anything that may answer early (static files): every
    # response gets the Content-Security-Policy and Permissions-Policy.
    "blog_project.security.PolicyHeadersMiddleware",
    "blog_project.health.HealthCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # While the database does not answer, pages that need it get the 503 page at once (a
    # page answered by the page cache above still works).
    "blog_project.errors.DatabaseBreakerMiddleware",
    # Counts the page views that were rendered (the page cache counts the ones it answers).
    *(["stats.middleware.PageViewMiddleware"] if "stats" in PLUGINS else []),
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Reader pages: the language of the URL (i18n_patterns); the admin: the editor's.
    "blog_project.languages.LocaleMiddleware",
    # The site's time zone for reader pages, the editor's own zone in the admin.
    "articles.timezones.SiteTimezoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Old addresses of imported sites: a 301 instead of a 404 (asked only on a 404).
    *(["transfer.middleware.LegacyRedirectMiddleware"] if "transfer" in PLUGINS else []),
    # Last: throttles admin logins (django-axes) per account and per address.
    "axes.middleware.AxesMiddleware",
]

# Form widgets render through TEMPLATES, so apps can give a widget a template of their own
# (the comment form's per-reader holes).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

ROOT_URLCONF = "blog_project.urls"
WSGI_APPLICATION = "blog_project.wsgi.application"

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
                "articles.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
_DATABASE_ENGINES = {"mysql": "django.db.backends.mysql", "sqlite": "django.db.backends.sqlite3"}


def _masked(url: str) -> str:
    """A URL fit for an error message: the password replaced by ***."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def _database_from_url(url: str) -> dict:
    """DATABASES["default"] from DATABASE_URL, or one clear line saying what is wrong."""
    scheme = urlsplit(url).scheme if "://" in url else ""
    engine = _DATABASE_ENGINES.get(scheme.split("+")[0])
    if engine is None:
        raise ImproperlyConfigured(
            f"DATABASE_URL={_masked(url)!r} is not a database URL this blog can use: expected "
            "mysql://user:password@host:3306/name (MySQL/MariaDB) or sqlite:////absolute/path.sqlite3."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        config = environ.Env.db_url_config(url)
    if config.get("ENGINE") != engine or not config.get("NAME"):
        raise ImproperlyConfigured(f"DATABASE_URL={_masked(url)!r} names no database (…/name at the end).")
    return config


DATABASES = {
    "default": _database_from_url(env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"))
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.mysql":
    _db["OPTIONS"] = {
        "charset": "utf8mb4",
        "init_command": "SET sql_mode='STRICT_TRANS_TABLES', NAMES utf8mb4 COLLATE utf8mb4_unicode_ci",
        # A database that is down or hung answers within seconds (pages then get a 503),
        # not after the gunicorn worker timeout.
        "connect_timeout": env.int("DATABASE_CONNECT_TIMEOUT", default=3),
        **_db.get("OPTIONS", {}),
    }
    # A hung server (accepting connections, never answering) costs a query this long at
    # most. deploy/gunicorn.conf.py sets it for web processes; migrations and the worker,
    # whose statements may rightly run long, have no limit unless it is set.
    if _read_timeout := env.int("DATABASE_READ_TIMEOUT", default=0):
        _db["OPTIONS"].update(read_timeout=_read_timeout, write_timeout=_read_timeout)
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    _db["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the gunicorn workers read while the admin writes; IMMEDIATE avoids
    # "database is locked" upgrades from read to write transactions.
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Opening the file and setting the pragmas on every request costs more than a page view.
    _db["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions, broker ----------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CACHE_KEY_PREFIX = env.str("BLOG_CACHE_PREFIX", default="blog")
# Seconds any one Redis call (cache, counters) may wait, connecting or reading; after a
# failure the "redis" circuit breaker makes calls fail at once for BLOG_BREAKER_RESET_SECONDS.
REDIS_TIMEOUT = env.float("BLOG_REDIS_TIMEOUT", default=0.5)
for _name, _url in (("REDIS_URL", REDIS_URL), ("STATS_REDIS_URL", env.str("STATS_REDIS_URL", default=""))):
    if _url and urlsplit(_url).scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured(
            f"{_name}={_masked(_url)!r} is not a Redis URL: expected redis://host:6379/0 "
            "(rediss:// for TLS, unix:///path/redis.sock)."
        )
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "TIMEOUT": 60 * 60 * 24,
            "OPTIONS": {
                # Every call through the "redis" circuit breaker (blog_project/cache_client.py).
                "CLIENT_CLASS": "blog_project.cache_client.BreakerClient",
                # A Redis outage makes pages slower, never broken: a failed call is a miss.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT,
                "SOCKET_TIMEOUT": REDIS_TIMEOUT,
            },
        }
    }
    # The breaker logs an outage once when it starts and once when it ends; a traceback
    # per ignored call would be hundreds of lines per page.
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    # File-based, so every process (gunicorn workers, the admin, management commands)
    # sees the same fragments and generation numbers; a per-process cache would not.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "TIMEOUT": 60 * 60 * 24,
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
# Without a broker (embedded default) tasks run in-process, right after commit.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
# Longer than any task, so a slow task is not redelivered to a second worker mid-run. The
# socket timeout bounds a publish to a hung broker (the worker's BRPOP waits 1 s at most).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2 * 60 * 60,
    "socket_timeout": 5,
    "socket_connect_timeout": 5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A page publishing a task (a comment's mail) waits at most this long for the broker, once
# per breaker interval; what could not be queued is kept in the outbox (blog_project/broker.py).
BLOG_BROKER_TIMEOUT = env.float("BLOG_BROKER_TIMEOUT", default=1.0)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# --- Auth -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# django-axes first: a locked-out account or address is refused before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Admin login throttling: AXES_FAILURE_LIMIT wrong passwords from one address (its /64
# network for IPv6), whatever the user names, pause that address for AXES_COOLOFF_MINUTES.
# Never the account from every address: a stranger could then keep an editor out for good
# (one wrong password every few minutes). Kept in the database in every mode, never in the
# cache: a page-cache flood filling Redis would evict a lockout first. `manage.py
# axes_reset` (or axes_reset_ip) lifts pauses at once.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_CLIENT_IP_CALLABLE = "blog_project.security.client_network_for_axes"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_VERBOSE = False

# --- I18N -----------------------------------------------------------------------------
# The default language: the unprefixed URLs serve it, the others are under their prefix.
LANGUAGE_CODE = env.str("DJANGO_LANGUAGE_CODE", default="en").lower()
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"DJANGO_LANGUAGE_CODE={LANGUAGE_CODE!r}: expected one of {', '.join(dict(LANGUAGES))}."
    )
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# A collected file missing from a stale manifest is hashed on the fly rather than turning
# every page into a 500 (collectstatic itself is run by `make run` and the deploy).
WHITENOISE_MANIFEST_STRICT = False
# Files browsers ask for at the site's root (/favicon.ico, /apple-touch-icon.png).
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Django serves uploads itself in the embedded default; nginx does in production.
SERVE_MEDIA = env.bool("BLOG_SERVE_MEDIA", default=not IS_PRODUCTION)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Media on S3-compatible object storage (docs/kubernetes.md) ---------------------
# Pods on several nodes cannot share MEDIA_ROOT (a ReadWriteOnce volume fails with
# Multi-Attach): BLOG_MEDIA_STORAGE=s3 keeps uploads in a bucket, written through
# default_storage and fetched by readers from BLOG_MEDIA_URL (the bucket's public origin or
# a CDN in front of it). blog_project/storage.py sets the headers our nginx sets on /media/
# as far as object storage can keep them.
BLOG_MEDIA_STORAGE = env.str("BLOG_MEDIA_STORAGE", default="filesystem")
MEDIA_URL = env.str("BLOG_MEDIA_URL", default=MEDIA_URL)
if BLOG_MEDIA_STORAGE == "s3":
    _media_origin = urlsplit(MEDIA_URL)
    if _media_origin.scheme not in ("http", "https") or not MEDIA_URL.endswith("/"):
        raise ImproperlyConfigured(
            f"BLOG_MEDIA_URL={MEDIA_URL!r}: with BLOG_MEDIA_STORAGE=s3 it must be the absolute URL "
            "readers fetch the bucket from, ending in a slash, e.g. https://media.example.com/."
        )
    STORAGES["default"] = {
        "BACKEND": "blog_project.storage.MediaS3Storage",
        "OPTIONS": {
            "bucket_name": env.str("BLOG_S3_BUCKET"),
            "endpoint_url": env.str("BLOG_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("BLOG_S3_REGION", default="") or None,
            # Empty: boto3's own chain (instance or pod identity, ~/.aws).
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "addressing_style": env.str("BLOG_S3_ADDRESSING_STYLE", default="") or None,
            # Public, unsigned URLs under BLOG_MEDIA_URL: the same in every rendered page,
            # so cached pages and body_html stay valid.
            "custom_domain": _media_origin.netloc + _media_origin.path.rstrip("/"),
            "url_protocol": f"{_media_origin.scheme}:",
            "querystring_auth": False,
            "file_overwrite": False,
            "default_acl": None,
        },
    }
    SERVE_MEDIA = False
elif BLOG_MEDIA_STORAGE != "filesystem":
    raise ImproperlyConfigured(f"BLOG_MEDIA_STORAGE={BLOG_MEDIA_STORAGE!r}: expected filesystem or s3.")

# --- Markdown editor (django-markdownx) -----------------------------------------------
MARKDOWNX_MARKDOWNIFY_FUNCTION = "articles.markdown.markdownify"
MARKDOWNX_URLS_PATH = "/editor/markdownify/"
MARKDOWNX_UPLOAD_URLS_PATH = "/editor/upload/"
MARKDOWNX_MEDIA_PATH = "uploads/"
MARKDOWNX_UPLOAD_MAX_SIZE = env.int("BLOG_UPLOAD_MAX_BYTES", default=5 * 1024 * 1024)
# Decoded size matters more than file size: 25 MP takes 100 MB as RGBA while it is scaled.
BLOG_UPLOAD_MAX_PIXELS = env.int("BLOG_UPLOAD_MAX_PIXELS", default=25_000_000)
MARKDOWNX_UPLOAD_CONTENT_TYPES = ["image/jpeg", "image/png", "image/webp"]
MARKDOWNX_IMAGE_MAX_SIZE: dict[str, Any] = {"size": (1600, 1600), "quality": 85}
MARKDOWNX_SERVER_CALL_LATENCY = 500
# The writing room keeps the text and the preview side by side at a fixed height, each
# scrolling on its own (static/editor/editor.js keeps them in step).
MARKDOWNX_EDITOR_RESIZABLE = False

# --- E-mail ---------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="blog@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A mail server that hangs must not hold a worker (or, eagerly, a request) for long.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
ADMINS = [tuple(a.split(":", 1)) for a in env.list("DJANGO_ADMINS", default=[]) if ":" in a]

# --- Security -------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Nothing frames the site (the markdownx preview is a plain div in the admin form), so
# DENY, which also keeps `check --deploy` clean (security.W019).
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# No inline script anywhere (reader pages, the admin, the editor): scripts come from this
# origin only. JSON-LD blocks are data, not scripts. Inline styles stay allowed (aligned
# table cells in rendered Markdown carry a style attribute). Gravatar and images that
# articles link from other sites may load. django-csp's settings format; the header is built
# once per process by blog_project/security.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "https:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Features no page of the blog uses, switched off for every page and anything it embeds.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), interest-cohort=(), browsing-topics=()"
)
if IS_PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Off: nginx passes the Host itself, and no link is built from the request's host
    # (absolute links come from BLOG_SITE_URL), so a forwarded one is never believed.
    USE_X_FORWARDED_HOST = env.bool("DJANGO_USE_X_FORWARDED_HOST", default=False)

# --- Blog-specific --------------------------------------------------------------------
BLOG_PAGE_CACHE_TIMEOUT = env.int("BLOG_PAGE_CACHE_TIMEOUT", default=60 * 60 * 24)
# Each process keeps copies of the pages it served, checked against the page generation, so
# a hit sends no page over the network. Bytes per process.
BLOG_PAGE_CACHE_LOCAL_BYTES = env.int("BLOG_PAGE_CACHE_LOCAL_BYTES", default=8 * 1024 * 1024)
# With Redis unreachable, a process serves its own copy of a page for this many seconds after
# it was last found current (edits from other processes cannot reach it meanwhile anyway).
BLOG_PAGE_CACHE_OUTAGE_SECONDS = env.float("BLOG_PAGE_CACHE_OUTAGE_SECONDS", default=30.0)
# Bumps are announced over Redis pub/sub, so a process knows its copies are current without
# asking; it reads the generation again at least this often (seconds) all the same, in case
# its subscription died silently (blog_project/caching/watch.py).
BLOG_PAGE_CACHE_RECHECK_SECONDS = env.float("BLOG_PAGE_CACHE_RECHECK_SECONDS", default=1.0)
# Paths never answered from the page cache (nothing there is stored, so not even looked up).
BLOG_PAGE_CACHE_SKIP_PREFIXES = (
    "/admin/",
    "/editor/",
    "/media/",
    "/i18n/",
    "/comments/",
    "/stats/",
    "/healthz",
)
# Live sidebar widgets that are the same for every reader (site statistics) are re-rendered
# at most this often per process; 0 renders them on every request.
BLOG_LIVE_WIDGET_MAX_AGE = env.float("BLOG_LIVE_WIDGET_MAX_AGE", default=5.0)
# Article view counts on pages (rolled up + today's) are read from the counters at most
# this often per process for the same articles; 0 reads them on every request.
BLOG_LIVE_VIEWS_MAX_AGE = env.float("BLOG_LIVE_VIEWS_MAX_AGE", default=5.0)
# After a failed call to Redis, the broker or the mail server, calls through its circuit
# breaker fail fast for this many seconds (then one probe): a hung service costs each
# process one short wait per interval, not one per call (blog_project/breaker.py).
BLOG_BREAKER_RESET_SECONDS = env.float("BLOG_BREAKER_RESET_SECONDS", default=5.0)
# The header carrying the reader's address behind a proxy (nginx sets X-Real-IP); empty
# means REMOTE_ADDR. Only set it when a proxy you control always sets the header.
BLOG_CLIENT_IP_HEADER = env.str("BLOG_CLIENT_IP_HEADER", default="")

# --- Comments (defaults and descriptions in comments/conf.py) ---------------------------
COMMENTS_MIN_FILL_SECONDS = env.int("COMMENTS_MIN_FILL_SECONDS", default=3)
COMMENTS_RATE_LIMIT = env.int("COMMENTS_RATE_LIMIT", default=5)
COMMENTS_RATE_WINDOW = env.int("COMMENTS_RATE_WINDOW", default=600)
COMMENTS_MAX_LENGTH = env.int("COMMENTS_MAX_LENGTH", default=5000)
COMMENTS_MAX_LINKS = env.int("COMMENTS_MAX_LINKS", default=3)
COMMENTS_THREADS_PER_PAGE = env.int("COMMENTS_THREADS_PER_PAGE", default=50)
COMMENTS_MAX_DEPTH = env.int("COMMENTS_MAX_DEPTH", default=3)
COMMENTS_AVATARS = env.bool("COMMENTS_AVATARS", default=True)
COMMENTS_MODERATOR_EMAILS = env.list("COMMENTS_MODERATOR_EMAILS", default=[])
COMMENTS_MODERATION_DIGEST_SECONDS = env.int("COMMENTS_MODERATION_DIGEST_SECONDS", default=300)
# Drafts submitted for review: "now" or "daily" (articles/review.py).
BLOG_REVIEW_MAIL = env.str("BLOG_REVIEW_MAIL", default="now")

# --- Stats (defaults and descriptions in stats/conf.py) ---------------------------------
STATS_RETENTION_DAYS = env.int("STATS_RETENTION_DAYS", default=7)
STATS_REDIS_URL = env.str("STATS_REDIS_URL", default="")
STATS_ROLLUP_RETRY_SECONDS = env.int("STATS_ROLLUP_RETRY_SECONDS", default=300)
STATS_FLUSH_SECONDS = env.float("STATS_FLUSH_SECONDS", default=1.0)

# --- Logging --------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {
        "visitor_input": {"()": "blog_project.log_filters.VisitorInputFilter"},
        "database_outage": {"()": "blog_project.log_filters.DatabaseOutageFilter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        # Bad hosts, oversized or malformed requests are a visitor's doing, not the site's
        # failure: one warning line each, no traceback, no error mail.
        "visitor_input": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["visitor_input"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django_redis": {"level": "WARNING"},
        "django.security": {"handlers": ["visitor_input"], "level": "INFO", "propagate": False},
        "django.request": {"filters": ["database_outage"]},
        "axes": {"level": "WARNING"},
    },
}
