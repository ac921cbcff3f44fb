"""Settings for vss-program, read from the environment (see README, "Configuration").

The defaults suit a development machine (DEBUG on, a generated secret key, the
embedded PostgreSQL).  Production sets DEBUG=false: the process then refuses
to start without SECRET_KEY and ALLOWED_HOSTS, and every `check --deploy`
rule holds.
"""

import re
import secrets
import zoneinfo
from datetime import timedelta
from pathlib import Path

import csp.constants as csp
import dj_database_url
import pghistory
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from vss_program.embedded_postgres import exit_cleanly_on_sigterm
from vss_program.env import env_bool, env_int, env_list, env_str
from vss_program.logging_config import site_logging

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", default=True)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE) to a long random "
            "string in production, or DEBUG=true for a development machine."
        )
    # Development: one random key per checkout, kept so logins survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set. List the host names this site answers to, "
        "comma-separated, e.g. ALLOWED_HOSTS=bhxh.example.gov.vn"
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # django.contrib.admin, with accounts' admin site: it asks for a one-time code
    # at sign-in when OTP_REQUIRED (see accounts/admin_site.py).
    "accounts.admin_config.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "django_tasks",
    "django_tasks_db",
    "reference",
    "accounts",
    "sponsors",
    "beneficiaries",
    "distributions",
    "api",
    "dashboards",
    "pgtrigger",
    "pghistory",
    "audit",
]

MIDDLEWARE = [
    # First: one log line per request, timed across all the others (vss_program/request_log.py).
    "vss_program.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # /healthz and /readyz, answered before the session and the user are read (health.py).
    "vss_program.health.ProbeMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Who, from where and which request, for every change the triggers record (audit/).
    "audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "vss_program.urls"
WSGI_APPLICATION = "vss_program.wsgi.application"

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
            ],
        },
    },
]

# Database: PostgreSQL only.  Without DATABASE_URL an embedded server is
# started on first use, with its data under var/.
EMBEDDED_POSTGRES_DIR = Path(env_str("EMBEDDED_POSTGRES_DIR", str(VAR_DIR / "postgres")))
EMBEDDED_POSTGRES_DATABASE = "vss_program"
# Seconds a new connection may take (libpq's connect_timeout): a server that cannot be
# reached fails the request with a 503 (vss_program/outage.py) instead of holding a worker
# until gunicorn kills it.  A connect_timeout in the URL wins.
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=2)  # libpq: 1 is 2


def _postgres_database(variable: str) -> dict:
    """Return the database settings read from the URL in environment variable ``variable``."""
    try:
        database = dj_database_url.parse(
            env_str(variable),
            conn_max_age=env_int("CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"{variable} cannot be read: {exc}") from exc
    if database["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"{variable} must point at PostgreSQL (postgres://user:password@host:port/name)."
        )
    database.setdefault("OPTIONS", {}).setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    return database


if env_str("DATABASE_URL"):
    _database = _postgres_database("DATABASE_URL")
else:
    exit_cleanly_on_sigterm()
    _database = {
        "ENGINE": "vss_program.embedded_postgres",
        "NAME": EMBEDDED_POSTGRES_DATABASE,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
# pgtrigger's triggers (the audit trail) read pgtrigger.ignore in an exception
# block: left undefined, every row written raises and catches an error, which
# made a 100,000-row import eight times slower.  Defined empty for each session.
_options = _database.setdefault("OPTIONS", {})
_options["options"] = f"{_options.get('options', '')} -c pgtrigger.ignore={{}}".strip()
DATABASES = {"default": _database}
# A streaming replica of it, for reads that may lag a moment behind: the dashboards and
# the XLSX and CSV exports (vss_program/routers.py).  Tests read it as the primary.
if env_str("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = _postgres_database("DATABASE_REPLICA_URL") | {
        "TEST": {"MIRROR": "default"}
    }
DATABASE_ROUTERS = ["vss_program.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses every sign-in of a locked-out username and address (README, "Signing in").
    "axes.backends.AxesStandaloneBackend",
    # Django's, reading a user's permissions in one query instead of two.
    "accounts.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8 if DEBUG else 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Language and time: Vietnamese first, English second.
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "vi")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE={LANGUAGE_CODE!r} is not one of vi, en")
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["vss_program.formats"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Ho_Chi_Minh")
if TIME_ZONE not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not a known time zone")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]  # project-wide scripts (no inline ones: CSP)
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
if DEBUG:
    # whitenoise serves from the apps' folders in development, but warns on
    # every start when the collectstatic target is missing.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
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

# Security: strict unless DEBUG.  Behind a TLS-terminating proxy, set
# TRUST_X_FORWARDED_PROTO=true so Django knows the request was HTTPS.
if env_bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Probes call the app server itself, over plain HTTP (vss_program/health.py).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# A login lasts SESSION_COOKIE_AGE seconds after the last request, not after
# sign-in: the session and its cookie are saved again on every request.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True
# Django's database sessions, saving an existing one in one statement (no BEGIN/COMMIT).
SESSION_ENGINE = "vss_program.sessions"

# Content-Security-Policy (django-csp): scripts only from our own static files,
# no inline script or event handler.  Inline <style> blocks stay allowed.  In
# development the same policy is only reported (in the browser console).
CONTENT_SECURITY_POLICY_DIRECTIVES = {
    "default-src": [csp.SELF],
    "script-src": [csp.SELF],
    "style-src": [csp.SELF, csp.UNSAFE_INLINE],
    "img-src": [csp.SELF, "data:"],
    "object-src": [csp.NONE],
    "base-uri": [csp.SELF],
    "frame-ancestors": [csp.NONE],
    "form-action": [csp.SELF],
    # ReDoc's search runs in a worker it builds from a blob.
    "worker-src": [csp.SELF, "blob:"],
}
if DEBUG:
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": CONTENT_SECURITY_POLICY_DIRECTIVES}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": CONTENT_SECURITY_POLICY_DIRECTIVES}

# Sign-in throttling (django-axes, attempts kept in PostgreSQL): a username is
# locked from one address after AXES_FAILURE_LIMIT wrong passwords in a row,
# for AXES_COOLOFF_MINUTES; a sign-in during the lock-out starts it again.
# `manage.py axes_reset_username NAME` (or deleting the attempt in the admin)
# lifts it sooner.
LOGIN_URL = "admin:login"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Masked in the stored attempts and the log, with the password (always masked).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.security.client_ip"
# true only behind exactly one proxy that appends the client's address to
# X-Forwarded-For (nginx: proxy_add_x_forwarded_for); otherwise REMOTE_ADDR.
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", default=False)

# Two-factor authentication (django-otp, TOTP): with OTP_REQUIRED the admin
# asks staff for a code from an authenticator app after the password; someone
# without a device yet is sent to enrol one (accounts/views.py).
OTP_REQUIRED = env_bool("OTP_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = "VSS program"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Audit trail (audit/, django-pghistory): triggers on the tracked tables are
# installed by `migrate` (after the migrations), not written into the other
# apps' migrations, so those apps keep their migrations to themselves.
PGTRIGGER_MIGRATIONS = False

# Background jobs (big imports) wait in PostgreSQL: the embedded default needs
# no other server, and `manage.py db_worker` may run on any machine that
# reaches the database.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# Files larger than this (bytes) are checked and written by a worker; smaller
# ones (up to about 2,000 rows) while the user waits.
IMPORT_INLINE_BYTES = env_int("IMPORT_INLINE_BYTES", 200_000, minimum=0)
PGTRIGGER_INSTALL_ON_MIGRATE = True
# Event tables are indexed by record and time only, not by every foreign key they copy.
PGHISTORY_FOREIGN_KEY_FIELD = pghistory.ForeignKey(db_index=False)

# Cache: the API's throttling counts and its keys with their access, today's unit ids.
# One process's memory by default; with several app servers, CACHE_URL=redis://host:6379/0
# shares them (and a key's revocation reaches every server at once).
_cache_url = env_str("CACHE_URL")
if _cache_url and not _cache_url.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured("CACHE_URL must be a redis:// or rediss:// address.")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# REST API for partner systems (api/ and each app's api/ package).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiKeyAuthentication",
        "api.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.RoleAndScopes"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PagePagination",
    "DEFAULT_FILTER_BACKENDS": ["api.filters.FilterBackend"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "DATE_INPUT_FORMATS": ["iso-8601"],
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Requests per API client (or staff member) and period: second, minute, hour or day.
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "1200/minute")
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", API_THROTTLE_RATE):
    raise ImproperlyConfigured(
        f"API_THROTTLE_RATE={API_THROTTLE_RATE!r}: write a number of requests per period, "
        "such as 1200/minute."
    )
# How long an API key, its client's permissions and areas are kept in the cache between
# requests; revocations and changes drop them at once (on every server with CACHE_URL).
API_ACCESS_CACHE_SECONDS = env_int("API_ACCESS_CACHE_SECONDS", 60, minimum=0)
# How long a POST's response is replayed to a retry with the same Idempotency-Key.
IDEMPOTENCY_TTL = timedelta(hours=env_int("IDEMPOTENCY_TTL_HOURS", 24, minimum=1))
SPECTACULAR_SETTINGS = {
    "TITLE": "vss-program API",
    "DESCRIPTION": (
        "Health-insurance cards and social-insurance books for people in difficult "
        "circumstances: recipients, plans, quotas, sponsors' pledges, hand-overs, cards and "
        "books, and figures. Partner systems authenticate with an API key "
        "(`Authorization: Api-Key ...`) issued by an administrator."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ItemKindEnum": "distributions.models.Item.Kind",
        "ItemStatusEnum": "distributions.models.Item.Status",
        "DeliveryMethodEnum": "distributions.models.Item.DeliveryMethod",
        "SponsorKindEnum": "sponsors.models.Sponsor.Kind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_errors_and_headers",
    ],
}

# Logs (vss_program/logging_config.py): one line per record on standard error, JSON
# with LOG_FORMAT=json (the default in production), each with the request's id and user.
LOGGING = site_logging(debug=DEBUG)

# Dashboards (dashboards/): what "needs attention" means, in days.
DASHBOARD_OVERDUE_DAYS = env_int("DASHBOARD_OVERDUE_DAYS", 30, minimum=1)
DASHBOARD_QUOTA_WARNING_DAYS = env_int("DASHBOARD_QUOTA_WARNING_DAYS", 90, minimum=0)
DASHBOARD_EXPIRY_DAYS = env_int("DASHBOARD_EXPIRY_DAYS", 60, minimum=1)
