"""Settings for the course server.

Every deploy-specific value comes from the environment, with a default that is safe
for a local run. `DATABASE_URL` and `REDIS_URL` select PostgreSQL and Redis; unset,
the embedded defaults serve: SQLite, and a Redis server that `make run` starts on a
Unix socket under `var/`.
"""

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("VAR_DIR", BASE_DIR / "var"))


def envstr(name: str, default: str) -> str:
    """A string from NAME, or from the file that NAME_FILE names (for secrets)."""
    path = os.getenv(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as e:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {e}") from e
    return os.getenv(name, default)


def envbool(name: str, default: str) -> bool:
    value = envstr(name, default).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false)")


def envint(name: str, default: str) -> int:
    value = envstr(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None


def envfloat(name: str, default: str) -> float:
    value = envstr(name, default)
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in envstr(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "true")
INSECURE_SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"
SECRET_KEY = envstr("SECRET_KEY", INSECURE_SECRET_KEY)
if not DEBUG and (
    SECRET_KEY == INSECURE_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 8
):
    # 50 characters: what `manage.py check --deploy` asks for (security.W009).
    raise ImproperlyConfigured(
        "DEBUG is off but SECRET_KEY is unset or insecure: set SECRET_KEY (or SECRET_KEY_FILE) "
        "to a random string of at least 50 characters, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`"
    )

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
SITE_NAME = envstr("SITE_NAME", "Multivariate Calculus")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    # The API's OpenAPI schema, generated from its views so that it cannot drift from them.
    "drf_spectacular",
    "exercises",
    # LTI 1.3: platforms, keys and launches (django-lti), and the course's side of it.
    "lti_tool",
    "lti",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "courseserver.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # While the database is down: 503 and Retry-After, not a 500.
    "courseserver.middleware.DatabaseUnavailableMiddleware",
    # Inside an LMS's frame, the cookies that the middleware below set are partitioned.
    "lti.middleware.PartitionedCookiesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Staff viewing the course as a student: nothing can be posted outside the admin.
    "exercises.view_as.ReadOnlyMiddleware",
    # After a launch from an LMS, its pages may be framed by that LMS (and no other).
    "lti.middleware.LtiFrameMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "courseserver.urls"
WSGI_APPLICATION = "courseserver.wsgi.application"

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
                "exercises.views.site_context",
                "exercises.view_as.context",
            ],
        },
    },
]

# The database. SQLite runs in WAL mode with immediate transactions and a busy
# timeout, so that the web process and the grading worker can both write without
# "database is locked".
DATABASE_URL = envstr("DATABASE_URL", "")
if DATABASE_URL:
    # Each web and worker process keeps one connection for DB_CONN_MAX_AGE seconds
    # (0: a new one for every request or task), checked before it is used again.
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=envint("DB_CONN_MAX_AGE", "60"),
            conn_health_checks=True,
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
        }
    }
# The hand-written statements of the hot paths are prepared by PostgreSQL, once per
# connection (`exercises.rows.cursor`); off for a pooler that cannot keep them
# (PgBouncer in transaction mode before 1.21).
DB_PREPARED_STATEMENTS = envbool("DB_PREPARED_STATEMENTS", "true")
if DB_PREPARED_STATEMENTS and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django turns psycopg's preparing off (None); only the statements run with
    # `prepare=True` are prepared (Django's own cursors bind in the client and never are).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 10**9)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not memory, so that a grading worker started by the integration tests
    # sees the same test database.
    # One per test run, so that two runs in one checkout do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "ex-login"
LOGIN_REDIRECT_URL = "ex-course"
LOGOUT_REDIRECT_URL = "ex-login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

if not DEBUG:
    SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "true")
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Browsers that have seen the site over HTTPS come back only over HTTPS, for a year
    # (0 sends no header). The header goes out on HTTPS responses only.
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "31536000")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "true")
    # Asking browsers to ship the site as HTTPS-only is the domain owner's decision
    # (hstspreload.org), never a default.
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "false")
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "false")
    # What `manage.py check --deploy` would warn about in a setting left false on
    # purpose: redirecting plain HTTP is then the reverse proxy's job (the app listens
    # behind it), and the site is not on the preload list.
    SILENCED_SYSTEM_CHECKS = [
        *(["security.W008"] if not SECURE_SSL_REDIRECT else []),
        *(["security.W021"] if not SECURE_HSTS_PRELOAD else []),
    ]
# How many reverse proxies stand in front of the web app: the client's address for
# rate limits is then read from X-Forwarded-For, that many entries from the right.
TRUSTED_PROXIES = envint("TRUSTED_PROXIES", "0")
# Where those proxies connect from: X-Forwarded-For is believed only from these
# networks, so that a client reaching the app directly cannot name its own address.
# The default: loopback and the private ranges (a proxy on the host reaches a Compose
# container through Docker's bridge network).
_proxy_networks = envlist(
    "TRUSTED_PROXY_NETWORKS",
    "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7",
)
try:
    TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network(n, strict=False) for n in _proxy_networks]
except ValueError as e:
    raise ImproperlyConfigured(f"TRUSTED_PROXY_NETWORKS: {e}") from None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Every page's scripts, styles, fonts and pictures come from this site, and no script is
# inline. KaTeX and CodeMirror set inline styles (KaTeX's `style` attributes size the
# formulas, CodeMirror inserts <style> elements), hence 'unsafe-inline' for styles only.
# SVG plots are inline in the page; `data:` images are for what the vendored styles embed.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# LTI 1.3 (the `lti` app). Inside an LMS's iframe the session cookie is a third-party
# cookie: browsers send it back only if it is SameSite=None (and Secure, so HTTPS).
# Lax (the default) keeps the site's cookies first-party; a session signed in inside an
# LMS's iframe has partitioned cookies instead (LTI_PARTITIONED_COOKIES, below).
SESSION_COOKIE_SAMESITE = envstr("SESSION_COOKIE_SAMESITE", "Lax")
CSRF_COOKIE_SAMESITE = SESSION_COOKIE_SAMESITE
if SESSION_COOKIE_SAMESITE not in {"Lax", "Strict", "None"}:
    raise ImproperlyConfigured("SESSION_COOKIE_SAMESITE must be Lax, Strict or None")
# After a launch inside an LMS's iframe, the cookies set in that frame are partitioned
# (CHIPS: `SameSite=None; Secure; Partitioned`), which Chrome, Edge and Firefox keep
# where they block third-party cookies: the student stays in the frame. Off, or in a
# browser without CHIPS (Safari), the launch offers a new window instead.
LTI_PARTITIONED_COOKIES = envbool("LTI_PARTITIONED_COOKIES", "true")
# Origins, besides those of the registered platforms, that may frame the LTI pages
# (an LMS whose pages are served from another host than its issuer and login URLs).
LTI_FRAME_ANCESTORS = envlist("LTI_FRAME_ANCESTORS", "")
# How many times a score post to an LMS is tried before it is marked failed for staff.
LTI_SCORE_TRIES = envint("LTI_SCORE_TRIES", "5")

# Redis: the Celery broker and the cache behind rate limits. REDIS_URL may be
# redis://host:port/db or, for the embedded server, redis+socket:///path/to/socket.
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = envstr("REDIS_URL", f"redis+socket://{EMBEDDED_REDIS_SOCKET}")
_redis = urlsplit(REDIS_URL)
if _redis.scheme not in {"redis", "rediss", "redis+socket"}:
    raise ImproperlyConfigured(
        f"REDIS_URL={REDIS_URL!r}: use redis://, rediss:// or redis+socket://"
    )
CACHE_REDIS_URL = f"unix://{_redis.path}" if _redis.scheme == "redis+socket" else REDIS_URL

CACHES = {
    "default": {
        "BACKEND": envstr("CACHE_BACKEND", "courseserver.cache.RedisCache"),
        "LOCATION": CACHE_REDIS_URL,
        "KEY_PREFIX": "cs",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

# Celery. The database is the source of truth for submissions; the broker only
# carries "grade submission N". Publishing fails fast when the broker is down (the
# periodic sweep sends the submission again later).
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_CONNECTION_TIMEOUT = envfloat("BROKER_CONNECT_TIMEOUT", "2")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    # A publisher tries to connect once more at once, never after a pause: a submit
    # request must not wait on a broker that is down.
    "max_retries": 1,
    "interval_start": 0,
    "visibility_timeout": envint("BROKER_VISIBILITY_TIMEOUT", "3600"),
}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_DEFAULT_QUEUE = envstr("GRADING_QUEUE", "grading")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection before and after every task,
# or, with this set, only every so many tasks: never, here. The worker closes it by
# Django's rule instead (CONN_MAX_AGE, health checks; see courseserver/celery.py).
CELERY_DB_REUSE_MAX = 10**9
# When the broker connection drops, give up the running task: the broker redelivers it,
# and the lease makes sure it is graded once.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_CONCURRENCY = envint("WORKER_CONCURRENCY", "2")
# Recycle the worker processes now and then, and whenever one grows large. Not too
# often: a new child starts new grading helpers, whose caches of the expected answers
# (parsed, compiled, evaluated at the sample points) are what makes a check fast.
CELERY_WORKER_MAX_TASKS_PER_CHILD = envint("WORKER_MAX_TASKS_PER_CHILD", "2000")
CELERY_WORKER_MAX_MEMORY_PER_CHILD = envint("WORKER_MAX_MEMORY_KB", "600000")
# Code answers go to a queue of their own, served by workers that may start sandboxes
# (see docker-compose.yml's code-worker): a slow run never delays the maths answers.
CODE_QUEUE = envstr("CODE_QUEUE", "code")
CODE_WORKER_CONCURRENCY = envint("CODE_WORKER_CONCURRENCY", "2")
# The code worker's CPU priority (`nice`, 0-19) where it shares a machine with the
# maths worker (`manage.py serve`): code answers take only the CPU maths leaves.
CODE_WORKER_NICE = envint("CODE_WORKER_NICE", "10")
CELERY_TASK_TIME_LIMIT = envint("GRADING_TASK_TIME_LIMIT", "120")
CELERY_TASK_SOFT_TIME_LIMIT = envint("GRADING_TASK_SOFT_TIME_LIMIT", "100")
# The periodic sweep (exercises.queue.sweep) sends again what the broker lost. It runs on
# a queue of its own, which the scheduler's worker takes: never behind a backlog of
# submissions, never in a grading process; one not run within its interval is dropped.
HOUSEKEEPING_QUEUE = envstr("HOUSEKEEPING_QUEUE", "housekeeping")
SWEEP_INTERVAL = envfloat("SWEEP_INTERVAL", "5")
# Score posts to LMSs go out on the housekeeping queue: network calls to another site,
# never behind or in a grading process.
LTI_QUEUE = envstr("LTI_QUEUE", HOUSEKEEPING_QUEUE)
CELERY_BEAT_SCHEDULE = {
    "sweep-submissions": {
        "task": "exercises.tasks.sweep_submissions",
        "schedule": SWEEP_INTERVAL,
        "options": {"queue": HOUSEKEEPING_QUEUE, "expires": SWEEP_INTERVAL},
    },
    # LTI score posts whose task the broker lost, sent again.
    "sweep-lti-score-posts": {
        "task": "lti.tasks.sweep_score_posts",
        "schedule": 60,
        "options": {"queue": HOUSEKEEPING_QUEUE, "expires": 60},
    },
    # Timed quizzes: the last drafts of students whose time is up, submitted for them.
    "sweep-quiz-drafts": {
        "task": "exercises.tasks.sweep_quiz_drafts",
        "schedule": SWEEP_INTERVAL,
        "options": {"queue": HOUSEKEEPING_QUEUE, "expires": SWEEP_INTERVAL},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Grading: the bounds of the path from a submission to its verdict.
GRADING_TIMEOUT = envfloat("GRADING_TIMEOUT", "2")
# A worker holds a submission it grades for this long, renewed every third of it while
# it grades (exercises.queue.Heartbeat): one that dies lets go within this time.
GRADING_LEASE_SECONDS = envint("GRADING_LEASE_SECONDS", "10")
# A run of a code part's visible tests has no heartbeat: it is given up by its worker
# only once it has been running this long.
CODE_RUN_LEASE_SECONDS = envint("CODE_RUN_LEASE_SECONDS", "180")
GRADING_MAX_TRIES = envint("GRADING_MAX_TRIES", "3")
# Seconds of checks after which a submission yields between parts to other students'
# (exercises.queue): a slow answer delays theirs by at most one check.
GRADING_SLICE_SECONDS = envfloat("GRADING_SLICE_SECONDS", "0.5")
# The sweep sends a queued submission again once the broker has lost it; one held back
# for want of a sandbox only after this many seconds.
GRADING_REQUEUE_AFTER = envint("GRADING_REQUEUE_AFTER", "60")
SUBMISSIONS_IN_FLIGHT = envint("SUBMISSIONS_IN_FLIGHT", "3")
SUBMISSIONS_PER_MINUTE = envint("SUBMISSIONS_PER_MINUTE", "10")
# An API client that sends `Prefer: wait=N` is answered once the verdict is in, after at
# most this many seconds (exercises/verdict_wait.py), instead of polling for it. At most
# VERDICT_WAITERS threads of a web process wait at once (half of WEB_THREADS: the others
# keep serving; with one thread, none waits), so waits never hold up the web tier.
VERDICT_WAIT_MAX = envfloat("VERDICT_WAIT_MAX", "2")
VERDICT_WAITERS = envint("VERDICT_WAITERS", str(envint("WEB_THREADS", "4") // 2))
LOGIN_ATTEMPTS_PER_15_MINUTES = envint("LOGIN_ATTEMPTS_PER_15_MINUTES", "20")
PREVIEWS_PER_MINUTE = envint("PREVIEWS_PER_MINUTE", "120")
# Runs of a code part's visible tests (no attempt used) per student.
CODE_RUNS_PER_MINUTE = envint("CODE_RUNS_PER_MINUTE", "6")
API_TOKEN_REQUESTS_PER_MINUTE = envint("API_TOKEN_REQUESTS_PER_MINUTE", "20")
API_SUBMISSIONS_PER_MINUTE = envint("API_SUBMISSIONS_PER_MINUTE", "30")

# E-mail: the links that reset a password. Printed on the console (what `make run` does)
# until EMAIL_HOST names an SMTP server.
EMAIL_HOST = envstr("EMAIL_HOST", "")
EMAIL_PORT = envint("EMAIL_PORT", "587")
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", "false")
# STARTTLS on the submission port unless the connection is TLS from the start (port 465).
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "false" if EMAIL_USE_SSL else "true")
if EMAIL_USE_SSL and EMAIL_USE_TLS:
    raise ImproperlyConfigured("EMAIL_USE_SSL and EMAIL_USE_TLS cannot both be true")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", "10")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "webmaster@localhost")
# How long a password reset link works, in seconds.
PASSWORD_RESET_TIMEOUT = envint("PASSWORD_RESET_TIMEOUT", "86400")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "exercises.tokenauth.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["exercises.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "exercises.negotiation.SingleRendererNegotiation",
    "EXCEPTION_HANDLER": "exercises.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# Seconds a web process remembers an API token it has looked up (`exercises.tokenauth`):
# a deleted token or deactivated user is refused by the other processes within this.
API_TOKEN_CACHE_SECONDS = envint("API_TOKEN_CACHE_SECONDS", "30")

# Seconds a web process keeps the course outline of the API (`exercises.outline`): a
# change made in another process is listed within this.
API_OUTLINE_CACHE_SECONDS = envint("API_OUTLINE_CACHE_SECONDS", "10")

# The JSON API's OpenAPI 3 schema, served at /api/schema/ and committed as
# docs/openapi.yaml (`make openapi`). Only the schema: no browsable UI, whose scripts
# would come from a CDN the Content-Security-Policy forbids.
SPECTACULAR_SETTINGS = {
    "TITLE": "Multivariate Calculus course server API",
    "VERSION": "1",
    "DESCRIPTION": (
        "Students' JSON API: a token, the course outline, an exercise, submissions "
        "and their verdicts, runs of a code part's visible tests. Send the token as "
        '`Authorization: Token <key>`. Every error answers `{"detail": "..."}` '
        "with a message for the student; 429 comes with `Retry-After` in seconds."
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "exercises.apischema.database_unavailable",
    ],
    # Each status list under its own name, not one made up from its values.
    "ENUM_NAME_OVERRIDES": {
        "SubmissionStatusEnum": "exercises.models.Submission.Status",
        "RunStatusEnum": "exercises.models.CodeRun.Status",
        "PartKindEnum": "exercises.models.Part.Kind",
        "ProblemSetKindEnum": "exercises.models.ProblemSet.Kind",
        "VerdictEnum": "exercises.apischema.PART_STATUSES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Demo accounts are made only for the embedded default, never against a real database.
DEMO_ACCOUNTS = not DATABASE_URL
