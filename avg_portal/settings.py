"""Settings for AVG Portal, read from the environment.

Every value that differs between development and production comes from an environment
variable, read by one of the typed helpers below; nonsense raises ImproperlyConfigured at
start-up instead of surfacing later as a surprise.
"""

import os
import re
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, overload
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value.strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0/true/false/yes/no, not {value!r}.")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_list(name: str, default: Iterable[str] = ()) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def mailer_from_url(url: str) -> dict[str, Any]:
    """Turn smtp://user:password@host:port?tls=1 (or smtps://, console://, locmem://) into
    a MAILERS entry."""
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme == "locmem":
        return {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parts.scheme not in ("smtp", "smtps"):
        raise ImproperlyConfigured(
            f"DJANGO_EMAIL_URL must start with smtp://, smtps:// or console://, not {url!r}."
        )
    if not parts.hostname:
        raise ImproperlyConfigured("DJANGO_EMAIL_URL names no host.")
    query = parse_qs(parts.query)
    use_tls = query.get("tls", ["0"])[0].lower() in _TRUE
    use_ssl = parts.scheme == "smtps"
    if use_tls and use_ssl:
        raise ImproperlyConfigured("DJANGO_EMAIL_URL: smtps:// and ?tls=1 exclude each other.")
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname,
            "port": parts.port or (465 if use_ssl else 587 if use_tls else 25),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": use_tls,
            "use_ssl": use_ssl,
            "timeout": 20,
        },
    }


def cache_from_url(url: str) -> dict[str, Any]:
    """Turn redis://host:port/db (or rediss://), db://table or locmem:// into a CACHES entry.

    Every limit that must hold across processes and servers (wrong signing links, say) lives
    in this cache, so production runs it in Redis (or, failing that, the database)."""
    parts = urlsplit(url)
    if parts.scheme in ("redis", "rediss"):
        return {
            "BACKEND": "avg_portal.cache.RedisCache",
            "LOCATION": url,
            # An unreachable Redis answers within seconds, not when the kernel gives up: the
            # request then gets the 503 page (avg_portal.views.server_error), not a hang.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    if parts.scheme == "db":
        table = (parts.netloc + parts.path).strip("/") or "avg_portal_cache"
        return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": table}
    if parts.scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    raise ImproperlyConfigured(
        f"DJANGO_CACHE_URL must start with redis://, rediss://, db:// or locmem://, not {url!r}."
    )


DEBUG = env_bool("DJANGO_DEBUG", False)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or (_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (SECRET_KEY in ("", _DEV_SECRET_KEY) or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "Set DJANGO_SECRET_KEY to a random string of at least 50 characters "
        '(python -c "import secrets; print(secrets.token_urlsafe(50))"), '
        "or DJANGO_DEBUG=1 for development."
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# The public address of the app, used in emailed links (no request is at hand in a task).
# `check --deploy` warns while it is not set.
SITE_URL_IS_SET = bool(env_str("DJANGO_SITE_URL"))
SITE_URL = (env_str("DJANGO_SITE_URL") or "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = "AVG Portal"

# Who hears about errors and archive problems: "Name <address>, Other <address>".
ADMINS = env_list("DJANGO_ADMINS")

INSTALLED_APPS = [
    "avg_portal",
    "core",
    "agreements",
    "breaches",
    "records",
    "avg_portal.apps.OTPAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_totp",
    "two_factor",
    "formtools",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_tasks_db",
]

MIDDLEWARE = [
    "avg_portal.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Above CommonMiddleware, so that its answers (a 400 for a host not allowed) have it too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "avg_portal.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # django-otp's, with the device read by a statement made once.
    "avg_portal.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "avg_portal.middleware.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "avg_portal.middleware.PrivatePagesMiddleware",
    "avg_portal.middleware.MethodNotAllowedPageMiddleware",
    # Axes last, as its documentation asks: it turns a lockout into our throttle page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "avg_portal.urls"
WSGI_APPLICATION = "avg_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "avg_portal.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Production keeps connections open between requests (a new PostgreSQL
        # connection costs more than most pages); a health check replaces dead ones.
        conn_max_age=env_int("DJANGO_DB_CONN_MAX_AGE", 0 if DEBUG else 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database server that does not answer: the page says so within seconds (a 503,
    # avg_portal.views.server_error) instead of holding the worker until gunicorn kills it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DJANGO_DB_CONNECT_TIMEOUT", 5, minimum=1)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared state (rate limits) must be shared by every process and server: Redis in
# production; the process's own memory only in development.
CACHES = {"default": cache_from_url(env_str("DJANGO_CACHE_URL") or "locmem://")}

# What a new practice is given by the apps that keep defaults for it (core.practices).
PRACTICE_SETUP = ["agreements.defaults.apply_practice_defaults"]

# Accounts and authentication
AUTH_USER_MODEL = "avg_portal.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, loading the coach's practice with the user.
    "avg_portal.auth_backends.PracticeModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "avg_portal.password_validation.SimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "two_factor:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "two_factor:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2
EMAIL_CONFIRMATION_MAX_AGE = timedelta(days=3)

# The second factor: TOTP apps, with backup codes. No phone methods.
OTP_TOTP_ISSUER = SITE_NAME
TWO_FACTOR_PATCH_ADMIN = False
TWO_FACTOR_REMEMBER_COOKIE_AGE = None

# Failed logins: after AXES_FAILURE_LIMIT failures for one account from one address, a
# cool-off for that account from that address; it lifts by itself, so no coach ever waits
# for an administrator. Not per account alone (anyone could keep any coach out with five
# wrong passwords) nor per address alone (one typo-prone colleague behind the same office
# router would keep everyone out); a right password is not enough anyway without the code
# of the coach's authenticator app.
AXES_FAILURE_LIMIT = env_int("DJANGO_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DJANGO_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "avg_portal.accounts.login_attempt_username"
# Never store what was typed as a password in the attempt log.
AXES_SENSITIVE_PARAMETERS = ["password", "auth-password", "token-otp_token", "backup-otp_token"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "avg_portal.views.login_throttled"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env_int("DJANGO_PROXY_COUNT", 0)

# Sessions end when the browser closes, and after eight hours in any case.
SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Read from the shared cache (Redis in production), written through to the database: a
# logged-in page does not query the session table, and nobody is logged out when the cache
# is emptied.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Internationalisation: Dutch first, English second.
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

# Static files and uploads
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = "/media/"

_S3_BUCKET = env_str("DJANGO_S3_BUCKET")
if _S3_BUCKET:
    # Signed documents live in an S3-compatible bucket; they are never served publicly
    # but through views that check the owner.
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _S3_BUCKET,
            "endpoint_url": env_str("DJANGO_S3_ENDPOINT_URL") or None,
            "region_name": env_str("DJANGO_S3_REGION") or None,
            "access_key": env_str("DJANGO_S3_ACCESS_KEY") or None,
            "secret_key": env_str("DJANGO_S3_SECRET_KEY") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    }
# S3 Object Lock: every sealed PDF gets a COMPLIANCE retention date (agreements/archive.py),
# before which nobody, not even the bucket's owner, can delete or shorten it. Only for a
# bucket created with Object Lock enabled; sealing fails (and is retried) while it cannot.
S3_OBJECT_LOCK = env_bool("DJANGO_S3_OBJECT_LOCK", False)
if S3_OBJECT_LOCK and not _S3_BUCKET:
    raise ImproperlyConfigured("DJANGO_S3_OBJECT_LOCK needs DJANGO_S3_BUCKET.")
# When no Bijlage 1 row of the agreement has a structured retention period.
S3_OBJECT_LOCK_DEFAULT_YEARS = env_int("DJANGO_S3_OBJECT_LOCK_DEFAULT_YEARS", 7, minimum=1)
# Downloads of stored files (sealed PDFs, dossier ZIPs): once the view has checked who asks
# and that the file is intact, the front server sends the bytes. "x-accel-redirect" (nginx;
# Caddy's reverse_proxy handle_response, deploy/Caddyfile) answers with the internal path
# DJANGO_SENDFILE_PREFIX + the stored name; "x-sendfile" (Apache's mod_xsendfile, lighttpd)
# with the file's absolute path; "signed-url" (S3 only) redirects to a presigned URL valid
# for DJANGO_SENDFILE_URL_SECONDS; "" (the default) streams the file from Django.
SENDFILE = env_str("DJANGO_SENDFILE", "").lower()
if SENDFILE not in ("", "x-accel-redirect", "x-sendfile", "signed-url"):
    raise ImproperlyConfigured(
        "DJANGO_SENDFILE must be x-accel-redirect, x-sendfile, signed-url or empty, "
        f"not {SENDFILE!r}."
    )
if SENDFILE == "signed-url" and not _S3_BUCKET:
    raise ImproperlyConfigured("DJANGO_SENDFILE=signed-url needs DJANGO_S3_BUCKET.")
if SENDFILE in ("x-accel-redirect", "x-sendfile") and _S3_BUCKET:
    raise ImproperlyConfigured(f"DJANGO_SENDFILE={SENDFILE} needs documents on this disk.")
SENDFILE_PREFIX = "/" + env_str("DJANGO_SENDFILE_PREFIX", "/protected/").strip("/") + "/"
SENDFILE_URL_SECONDS = env_int("DJANGO_SENDFILE_URL_SECONDS", 60, minimum=1)
# With x-accel-redirect, a page that offers a sealed document may link to it with a query
# signed with this secret, which nginx checks itself (its secure_link module, deploy/nginx.conf)
# and then sends the file without asking the app: the page's view checked who asks and that
# the file is intact when it made the link, which works DJANGO_SENDFILE_URL_SECONDS, for this
# session only. Any other request for the same address goes to the app as before. The
# same random string goes into nginx's configuration; empty (the default): no such links.
SENDFILE_LINK_SECRET = env_str("DJANGO_SENDFILE_LINK_SECRET", "")
if SENDFILE_LINK_SECRET and SENDFILE != "x-accel-redirect":
    raise ImproperlyConfigured(
        "DJANGO_SENDFILE_LINK_SECRET needs DJANGO_SENDFILE=x-accel-redirect."
    )
if SENDFILE_LINK_SECRET and not re.fullmatch(r"[A-Za-z0-9_-]{32,}", SENDFILE_LINK_SECRET):
    raise ImproperlyConfigured(
        "DJANGO_SENDFILE_LINK_SECRET must be at least 32 letters, digits, - or _ "
        "(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')."
    )
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email
MAILERS = {"default": mailer_from_url(env_str("DJANGO_EMAIL_URL") or "console://")}
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "AVG Portal <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background tasks: inline in development and tests, a database queue with
# `manage.py db_worker` in production.
TASKS = {
    "default": {
        "BACKEND": env_str(
            "DJANGO_TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend"
        )
    }
}

# Signing links: a reminder after this many days without a signature, at most this often.
SIGNING_REMINDER_AFTER_DAYS = env_int("DJANGO_SIGNING_REMINDER_AFTER_DAYS", 3, minimum=1)
SIGNING_MAX_REMINDERS = env_int("DJANGO_SIGNING_MAX_REMINDERS", 2)
# Wrong signing links one address may try in ten minutes before it is refused for a while.
SIGNING_LINK_GUESS_LIMIT = env_int("DJANGO_SIGNING_LINK_GUESS_LIMIT", 20, minimum=1)
# How the one-time signer code reaches the client (agreements.signer_codes): a class with the
# SignerCodeChannel interface. Email is the one there is; an SMS provider would be another.
SIGNER_CODE_CHANNEL = "agreements.signer_codes.EmailChannel"

# Where the Autoriteit Persoonsgegevens takes breach notifications (linked, never loaded).
AP_BREACH_FORM_URL = env_str(
    "DJANGO_AP_BREACH_FORM_URL",
    "https://www.autoriteitpersoonsgegevens.nl/themas/beveiliging/datalekken/datalek-melden",
)

# A practice with more signed agreements than this gets its export by email link.
EXPORT_EMAIL_ABOVE = env_int("DJANGO_EXPORT_EMAIL_ABOVE", 200)

# The platform seal (avg_portal/seal.py): the certificate and key that seal final documents.
SEAL_CERT_FILE = env_str("DJANGO_SEAL_CERT_FILE") or None
SEAL_KEY_FILE = env_str("DJANGO_SEAL_KEY_FILE") or None
# A self-signed development certificate, made on first use; never in production.
SEAL_ALLOW_DEV_CERTIFICATE = DEBUG
# Root certificates (PEM files) that the seal's and the time-stamping authority's chains end
# in; the seal certificate itself is always trusted, and so are the roots in its own file.
SEAL_TRUST_ROOTS = env_list("DJANGO_SEAL_TRUST_ROOTS")
# Earlier seal certificates (PEM files): seals made with them keep verifying after a rollover.
SEAL_PREVIOUS_CERT_FILES = env_list("DJANGO_SEAL_PREVIOUS_CERT_FILES")
# RFC 3161 time-stamping authorities, tried in order (comma or space separated). With one
# configured, every seal carries a trusted timestamp and long-term validation data (PAdES
# B-LTA), and a document is never sealed without them: sealing waits and is retried.
# Credentials: DJANGO_TSA_USERNAME/PASSWORD for all, or https://user:password@host/ per URL.
TSA_URLS = [url for item in env_list("DJANGO_TSA_URL") for url in item.split()]
TSA_USERNAME = env_str("DJANGO_TSA_USERNAME") or None
TSA_PASSWORD = env_str("DJANGO_TSA_PASSWORD") or None
TSA_TIMEOUT_SECONDS = env_int("DJANGO_TSA_TIMEOUT_SECONDS", 10, minimum=1)
# `manage.py renew_evidence` renews a sealed PDF whose last timestamp's certificate expires
# within this many days.
EVIDENCE_RENEW_WITHIN_DAYS = env_int("DJANGO_EVIDENCE_RENEW_WITHIN_DAYS", 180, minimum=1)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security headers. Scripts only from our own origin or with the per-request nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # A proxy or load balancer asks these over plain HTTP on the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs: plain lines, or JSON lines (DJANGO_LOG_FORMAT=json) with the request id and the
# practice id. Signing tokens in paths are masked in every format; no personal data is added.
LOG_FORMAT = env_str("DJANGO_LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"DJANGO_LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "avg_portal.observability.RequestContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "avg_portal.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": LOG_FORMAT,
        },
        "mail_admins": {
            # Sent by a thread of its own, at most one per kind of error in 10 minutes.
            "class": "avg_portal.error_mail.ErrorMailHandler",
            "level": "ERROR",
            "filters": ["context"],
            "include_html": False,
        },
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Django's own loggers, the task worker's among them ("django.tasks"): errors to
        # the operators through our handler (this replaces Django's default one), and
        # everything on to the console as before.
        "django": {"handlers": ["mail_admins"]},
        "django.request": {"handlers": ["console", "mail_admins"], "propagate": False},
    },
}

# Error reports to Sentry (or a compatible service) when SENTRY_DSN is set; personal data
# is scrubbed before anything leaves (avg_portal.observability.scrub_event).
SENTRY_DSN = env_str("SENTRY_DSN") or None
if SENTRY_DSN:
    from avg_portal.observability import init_sentry

    init_sentry(SENTRY_DSN)
