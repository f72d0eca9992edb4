"""Agora settings: one module, driven by environment variables.

Development defaults need nothing installed (SQLite and a filesystem Celery broker under
``var/``). Production sets DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL;
with those, ``manage.py check --deploy`` reports nothing.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("AGORA_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
# ``make run`` (config/run.py) sets AGORA_LOCAL_DEMO=1: shoppers get the store's own error pages
# (DEBUG off) on plain http://127.0.0.1 with a development key; never set it in production.
AGORA_LOCAL_DEMO = env_bool("AGORA_LOCAL_DEMO", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    "dev-only-insecure-key-change-me-agora-0123456789-abcdefghijklmnopqrstuvwxyz"
    if DEBUG or AGORA_LOCAL_DEMO
    else ""
)
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off.")
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG or AGORA_LOCAL_DEMO else ""
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.facebook",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "django_celery_beat",
    "csp",
    "axes",
    "shop",
    "social",
    "social.engagement",
    "social.reviews",
    "social.forums",
    "social.textsignals",
    "personalization",
    "personalization.segments",
    "personalization.banners",
    "personalization.recommendations",
    "personalization.loyalty",
    "crm",
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "config.csp.CSPMiddleware",  # django-csp's, the usual header built once (issue 15)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "shop.middleware.ShopErrorMiddleware",
    "config.errors.DatabaseUnavailableMiddleware",  # PostgreSQL down: 503, not 500 (issue 16)
    # Last, as django-axes asks: turns a lockout raised during authentication into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "shop.context_processors.storefront",
                "shop.context_processors.lazy_csrf",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'agora.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT compilation. PostgreSQL compiles any statement whose estimated cost passes
    # jit_above_cost (100,000), and the store's bulk statements all do: the CRM duplicate
    # finder spent 0.83 s of its 4.2 s compiling, and the profile, segment, loyalty and outreach
    # statements each turned it off for themselves after the same finding (issue 15). Off for
    # the connection; AGORA_DB_JIT=1 turns it back on to compare.
    if not env_bool("AGORA_DB_JIT", False):
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions, broker ----------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# A forget leaves a lease this long on each key it drops, during which read-through fills
# store nothing (a fill computed from rows read before the forget never lands after it;
# config.cache.cache_forget). 0 turns leases off.
AGORA_CACHE_LEASE_SECONDS = float(os.environ.get("AGORA_CACHE_LEASE_SECONDS", "5"))
# View and search events go into a Redis stream drained in bulk by a task (personalization.events)
AGORA_EVENT_STREAM = env_bool("AGORA_EVENT_STREAM", bool(REDIS_URL))
# Whole store pages for visitors without cookies kept in the cache (shop.pagecache, issue 15);
# services bump a version when the data changes, the timeout is a safety net only.
AGORA_PAGE_CACHE = env_bool("AGORA_PAGE_CACHE", True)
AGORA_PAGE_CACHE_SECONDS = int(os.environ.get("AGORA_PAGE_CACHE_SECONDS", "300"))
# A hit in one Redis round trip, before Django's handler (config.wsgi) or as the first
# middleware, with every middleware's headers stored; off: the previous MGET path after
# WhiteNoise (kept for the A/B bench and a cache that is not Redis). Issue 15.
AGORA_PAGE_CACHE_FAST = env_bool("AGORA_PAGE_CACHE_FAST", True)
# Pages each web process keeps in memory for the fast path (bytes of bodies); the signed-in
# pages (shop.signed) have their own memory of this size.
AGORA_PAGE_MEMO_BYTES = int(os.environ.get("AGORA_PAGE_MEMO_BYTES", str(32 * 1024 * 1024)))
# The same for signed-in shoppers, each under their own key (shop.signed): hits before Django's
# handler (config.wsgi) or from the first middleware but the anonymous one, with every
# middleware's headers stored.
AGORA_SIGNED_PAGE_CACHE = env_bool("AGORA_SIGNED_PAGE_CACHE", True)
AGORA_SIGNED_PAGE_CACHE_SECONDS = int(os.environ.get("AGORA_SIGNED_PAGE_CACHE_SECONDS", "300"))
MIDDLEWARE.insert(0, "shop.signed.SignedPageCacheMiddleware")
_WHITENOISE = MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware")
# Store pages for visitors without cookies, from the cache, before sessions (issue 15).
MIDDLEWARE.insert(
    0 if AGORA_PAGE_CACHE_FAST else _WHITENOISE + 1, "shop.pagecache.AnonymousPageCacheMiddleware"
)
if REDIS_URL:
    CACHES = {
        "default": {
            # Fails open: while Redis is down reads miss and writes are dropped (issue 16).
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "agora"),
            # A Redis that went away must cost a page a short wait, not a hung worker.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    # Sessions are read from Redis and written through to the database, so a Redis outage or
    # restart signs nobody out (issue 16).
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
    # A task a dead worker had taken (acks_late) goes back to the queue after this long.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "agora",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("in", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
    if CELERY_BROKER_URL == "filesystem://":
        # kombu's filesystem channel, writing each message file whole (config/fsbroker.py)
        CELERY_BROKER_TRANSPORT = "config.fsbroker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# The queue tasks go to when nothing else is said; the soak and fault tests give their own
# gunicorn and worker a queue of their own so that they share a Redis with nobody's worker.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "300"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "360"))
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Auth (django-allauth) ------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out admin sign-in before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
# allauth's rate limits (on the cache): failed sign-ins 10 a minute per address and 5 in five
# minutes per account, then a 429 page; sign-up and password reset throttled too. Spelled out
# (they equal allauth's defaults but for sign-up) so they are visible and tested.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "10/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    "confirm_email": "1/3m/key",
}
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG or AGORA_LOCAL_DEMO else "https"

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "1025"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Agora <shop@agora.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- I18N, static, media --------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # collectstatic fills it; whitenoise wants it
# The local demo runs with DEBUG off: WhiteNoise serves static files straight from the finders
# (no collectstatic step); production serves the collected, hashed and compressed files.
WHITENOISE_USE_FINDERS = DEBUG or AGORA_LOCAL_DEMO
WHITENOISE_AUTOREFRESH = DEBUG or AGORA_LOCAL_DEMO
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6.0's default, today
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or AGORA_LOCAL_DEMO
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- REST API (issue 14: conventions in docs/api.md) ---------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "api.authentication.SessionAuthentication",
    ],
    # Every view picks its own access class; this default refuses anonymous callers.
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.Shopper"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.CursorPagination",
    "PAGE_SIZE": 24,
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.AnonThrottle", "api.throttling.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_RATE_ANON", "120/min"),
        "user": os.environ.get("API_RATE_USER", "600/min"),
    },
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Agora API",
    "DESCRIPTION": (
        "The REST API of the Agora social commerce storefront: the same services and rules as "
        "the pages. Authenticate with a personal access token (`Authorization: Bearer agp_…`) "
        "or the site's session. Errors are RFC 9457 problem details with a `code`. "
        "Guide: docs/api.md."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["api.schema.only_v1"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_problem_responses",
        "api.schema.add_webhooks",
        "api.schema.add_links",
    ],
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "shop.models.Order.Status",
        "ReviewStatusEnum": "social.reviews.models.Review.Status",
    },
}
INSTALLED_APPS += ["api"]

# --- Security (production) ------------------------------------------------------------------
_PLAIN_HTTP = DEBUG or AGORA_LOCAL_DEMO  # the local demo serves http://127.0.0.1 only
SESSION_COOKIE_SECURE = not _PLAIN_HTTP
CSRF_COOKIE_SECURE = not _PLAIN_HTTP
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not _PLAIN_HTTP)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if _PLAIN_HTTP else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not _PLAIN_HTTP
SECURE_HSTS_PRELOAD = not _PLAIN_HTTP
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Content-Security-Policy (django-csp): every script and style is a file served by Agora, so no
# 'unsafe-inline' is needed anywhere. No form-action: the sign-in buttons post here and are
# redirected on to whichever social provider is configured, which Chrome checks against it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Permissions-Policy (django-permissions-policy): the store needs none of these features.
PERMISSIONS_POLICY: dict[str, list] = {
    "accelerometer": [],
    "camera": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
}
# Admin sign-in lock-out (django-axes): 5 failures for one username from one address lock that
# pair for 15 minutes (HTTP 429). The storefront's sign-in, sign-up and password reset are
# throttled by allauth's ACCOUNT_RATE_LIMITS instead (see the accounts section).
AXES_ONLY_ADMIN_SITE = True
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Agora ----------------------------------------------------------------------------------
AGORA_PAYMENT_GATEWAY = os.environ.get("AGORA_PAYMENT_GATEWAY", "shop.payments.TestGateway")
AGORA_PRODUCTS_PER_PAGE = 24
AGORA_CURRENCY = "EUR"
# Media (generated product images, review photos) is served by Django unless a web server or
# object store does it; fine for the demo and small shops.
AGORA_SERVE_MEDIA = env_bool("AGORA_SERVE_MEDIA", True)
# A guest's emailed order link (shop.order_links) opens the order for this many days.
AGORA_ORDER_LINK_MAX_AGE_DAYS = int(os.environ.get("AGORA_ORDER_LINK_MAX_AGE_DAYS", "90"))

# Demo data: ``manage.py seed_demo`` calls each of these after the catalogue and shoppers exist.
# Each is ``seed(*, stdout)`` and must be idempotent.
AGORA_DEMO_SEEDERS: list[str] = []

# --- social: sign-in, permission screen, consent (issue 3) ---------------------------------
SOCIALACCOUNT_ADAPTER = "social.adapter.AgoraSocialAccountAdapter"
ACCOUNT_ADAPTER = "social.adapter.AgoraAccountAdapter"  # own-site redirects, reserved names
MIDDLEWARE += ["social.middleware.ProviderUnavailableMiddleware"]
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = int(os.environ.get("SOCIALACCOUNT_REQUESTS_TIMEOUT", "5"))
AGORA_PRIVACY_POLICY_VERSION = os.environ.get("AGORA_PRIVACY_POLICY_VERSION", "2025-06")
# "Friendbook": the local OpenID Connect provider in sandbox/idp (``make run`` starts it).
FRIENDBOOK_URL = os.environ.get("FRIENDBOOK_URL", "http://127.0.0.1:8001").rstrip("/")
SOCIALACCOUNT_PROVIDERS: dict = {
    "openid_connect": {
        "APPS": [
            {
                "provider_id": "friendbook",
                "name": "Friendbook",
                "client_id": os.environ.get("FRIENDBOOK_CLIENT_ID", "agora-store"),
                "secret": os.environ.get("FRIENDBOOK_CLIENT_SECRET", "agora-store-dev-secret"),
                "settings": {
                    "server_url": FRIENDBOOK_URL,
                    "token_auth_method": "client_secret_post",
                },
            }
        ]
    }
}
AGORA_DEMO_SEEDERS += ["social.demo.seed"]
# Facebook and Google appear only when their credentials are set.
for _name, _scope in (("google", ["openid", "profile", "email"]), ("facebook", ["email"])):
    _id = os.environ.get(f"{_name.upper()}_CLIENT_ID", "")
    _secret = os.environ.get(f"{_name.upper()}_CLIENT_SECRET", "")
    if _id and _secret:
        SOCIALACCOUNT_PROVIDERS[_name] = {
            "APPS": [{"client_id": _id, "secret": _secret}],
            "SCOPE": _scope,
        }


# --- engagement: likes, shares, follows (issue 4) ------------------------------------------
# A like total below this is not shown as a claim (it is an anonymous count of all likes).
ENGAGEMENT_SOCIAL_PROOF_MIN_LIKES = int(os.environ.get("ENGAGEMENT_SOCIAL_PROOF_MIN_LIKES", "3"))
# Orders placed up to this many days after a visit through a share link are attributed to it.
ENGAGEMENT_REFERRAL_DAYS = int(os.environ.get("ENGAGEMENT_REFERRAL_DAYS", "30"))
AGORA_DEMO_SEEDERS += ["social.engagement.demo.seed"]


# --- reviews and forums (issue 5) ----------------------------------------------------------
# Reviews: "all" approves every review, "verified" approves verified buyers and shoppers with an
# approved review already (others wait in the admin queue), "none" holds every review.
AGORA_REVIEWS_AUTO_APPROVE = os.environ.get("AGORA_REVIEWS_AUTO_APPROVE", "verified")
AGORA_REVIEWS_PER_PAGE = 10
# Forums: posts per page, edit window, and the trust rules for new accounts.
AGORA_FORUMS_POSTS_PER_PAGE = 20
AGORA_FORUMS_TOPICS_PER_PAGE = 25
AGORA_FORUMS_EDIT_WINDOW_MINUTES = 30
AGORA_FORUMS_NEW_ACCOUNT_DAYS = 3  # younger accounts are rate-limited harder, links nofollow
AGORA_FORUMS_RATE_LIMITS = {  # (posts, seconds)
    "new": (3, 600),
    "member": (6, 60),
}
AGORA_DEMO_SEEDERS += [
    "social.textsignals.demo.seed",
    "social.reviews.demo.seed",
    "social.forums.demo.seed",
]


# --- personalization: events and profiles (issue 6) ----------------------------------------
# Affinity weight of each event kind (kinds not listed add no affinity) and the half-life of
# an event's weight. Scores are stored relative to PERSONALIZATION_DECAY_EPOCH (see
# personalization.models.PreferenceProfile); keep the epoch fixed once profiles exist.
PERSONALIZATION_EVENT_WEIGHTS = {
    "purchase": 10.0,
    "add_to_cart": 5.0,
    "like": 3.0,
    "share": 2.0,
    "review": 2.0,
    "view": 1.0,
}
PERSONALIZATION_HALF_LIFE_DAYS = float(os.environ.get("PERSONALIZATION_HALF_LIFE_DAYS", "30"))
PERSONALIZATION_DECAY_EPOCH = "2025-01-01T00:00:00+00:00"
PERSONALIZATION_INTENT_TTL_DAYS = 30  # a text-signal intent without expires_at lasts this long
PERSONALIZATION_PROFILE_CACHE_SECONDS = 3600
# Raw events older than this many days are deleted by a daily task; None keeps them for ever.
_retention = os.environ.get("PERSONALIZATION_EVENT_RETENTION_DAYS", "")
PERSONALIZATION_EVENT_RETENTION_DAYS = int(_retention) if _retention else None
# Demographic field -> the social consent categories that allow it (any one is enough).
# Profile field -> the consent categories of the permission screen (social.consent) that unlock it.
PERSONALIZATION_CONSENT_CATEGORIES = {
    "age_band": ["age"],
    "gender": ["gender"],
    "relationship_status": ["relationship"],
    "interests": ["interests"],
}
AGORA_DEMO_SEEDERS += ["personalization.demo.seed"]


# --- privacy: export, erasure, retention (issue 13) ---------------------------------------
# "Download my data" archives live here (never under MEDIA_ROOT: they are served only through
# a signed link to their shopper) and the link works this many hours.
PRIVACY_EXPORT_DIR = Path(os.environ.get("PRIVACY_EXPORT_DIR", VAR_DIR / "private" / "exports"))
PRIVACY_EXPORT_LINK_HOURS = int(os.environ.get("PRIVACY_EXPORT_LINK_HOURS", "72"))
# Days each kind of data is kept (None: until the account is erased); purged daily by
# privacy.tasks.purge_expired_data. Kinds are registered with privacy.registry.register_retention
# (features add theirs, e.g. "outbox"); "How we use your data" shows these figures.
PRIVACY_RETENTION_DAYS: dict[str, int | None] = {
    "events": PERSONALIZATION_EVENT_RETENTION_DAYS or 365,
    "search_history": 90,
    "abandoned_carts": 60,
    "outbox": 365,  # outreach: planned/sent marketing emails and their decisions
}
AGORA_DEMO_SEEDERS += ["privacy.demo.seed"]
# --- segments (issue 9) --------------------------------------------------------------------
SEGMENTS_CACHE_SECONDS = 3600  # a shopper's segment ids; a refresh forgets those that changed
AGORA_DEMO_SEEDERS += ["personalization.segments.demo.seed"]
BANNERS_CACHE_SECONDS = 300  # a placement's banner list; editing a banner forgets it at once
AGORA_DEMO_SEEDERS += ["personalization.banners.demo.seed"]


# --- outreach: campaigns, attention budget, outbox (issue 11) -------------------------------
INSTALLED_APPS += ["personalization.outreach"]
# Marketing email may use its own backend (e.g. an ESP through django-anymail:
# "anymail.backends.amazon_ses.EmailBackend"); empty means EMAIL_BACKEND. Transactional mail
# always uses EMAIL_BACKEND and is never throttled by outreach.
OUTREACH_EMAIL_BACKEND = os.environ.get("OUTREACH_EMAIL_BACKEND", "")
OUTREACH_UNSUBSCRIBE_MAILBOX = os.environ.get(
    "OUTREACH_UNSUBSCRIBE_MAILBOX", "unsubscribe@agora.test"
)
OUTREACH_MESSAGE_ID_DOMAIN = os.environ.get("OUTREACH_MESSAGE_ID_DOMAIN", "")
# The provider's bounce/complaint webhooks (/anymail/<esp>/tracking/) check HTTP basic auth
# against "user:password" here; set it in the provider's webhook URL too. Unset, every
# webhook post is refused (outreach.receivers), and `check --deploy` says so.
ANYMAIL = {"WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET", "")}
# Coupons in campaign emails: ``hook(*, campaign, user, message_pk) -> {"code", "description"}``.
OUTREACH_COUPON_HOOK = os.environ.get("OUTREACH_COUPON_HOOK", "")
ACCOUNT_SIGNUP_FORM_CLASS = "personalization.outreach.forms.SignupForm"
AGORA_DEMO_SEEDERS += ["personalization.outreach.demo.seed"]
# --- recommendations (issue 9) ----------------------------------------------------------------
# The recommender is a swap point: a dotted path to a Recommender class (docs/recommendations.md).
RECOMMENDATIONS_BACKEND = os.environ.get(
    "RECOMMENDATIONS_BACKEND", "personalization.recommendations.backends.AffinityPairsRecommender"
)
RECOMMENDATIONS_PICKS = 12  # picks chosen (and stored) per decision
RECOMMENDATIONS_CACHE_SECONDS = 3600  # a shopper's picks; builds and choices forget them sooner
RECOMMENDATIONS_DECISION_RETENTION_DAYS = 90
AGORA_DEMO_SEEDERS += ["personalization.recommendations.demo.seed"]
# --- loyalty: tiers and coupons (issue 10) ---------------------------------------------------
# At most this many earned coupons per shopper in any 30 days (staff-issued ones not counted).
LOYALTY_MAX_EARNED_PER_30_DAYS = int(os.environ.get("LOYALTY_MAX_EARNED_PER_30_DAYS", "3"))
# Data sources triggers may use: "store" (orders), "own_text" (the shopper's own reviews and
# posts), "granted" (demographics the shopper granted on the permission screen, only while the
# grant stands). First-party only: no bought or inferred third-party data is a source.
LOYALTY_ALLOWED_SOURCES = env_list("LOYALTY_ALLOWED_SOURCES", "store,own_text,granted")
LOYALTY_TIME_ZONE = os.environ.get("LOYALTY_TIME_ZONE", "Europe/Berlin")
LOYALTY_WINDOW_DAYS = 365
AGORA_DEMO_SEEDERS += ["personalization.loyalty.demo.seed"]
# --- crm: customer 360, work, dashboards, roles (issue 12) --------------------------------
# Exports with more rows than this run in Celery and arrive as a download link.
CRM_EXPORT_SYNC_ROWS = int(os.environ.get("CRM_EXPORT_SYNC_ROWS", "2000"))
AGORA_DEMO_SEEDERS += ["crm.demo.seed"]
INSTALLED_APPS += ["import_export"]
# --- webhooks (issue 14): signed event deliveries, see docs/api.md -------------------------
INSTALLED_APPS += ["webhooks"]
WEBHOOKS_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOKS_TIMEOUT_SECONDS", "10"))
# An endpoint with no successful delivery for this long is disabled and staff are emailed.
WEBHOOKS_DISABLE_AFTER_HOURS = float(os.environ.get("WEBHOOKS_DISABLE_AFTER_HOURS", "72"))
# Loopback/private/link-local targets are refused unless this is on (tests, local receivers).
# Cloud metadata addresses are refused always.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", False)
WEBHOOKS_ALERT_EMAILS = env_list("WEBHOOKS_ALERT_EMAILS")  # empty: every active staff account
AGORA_DEMO_SEEDERS += ["api.demo.seed"]
# --- task outbox (issue 16): task calls parked while the broker is down ---------------------
INSTALLED_APPS += ["taskoutbox"]
AGORA_DEMO_SEEDERS += ["taskoutbox.demo.seed"]


# --- end of app sections -------------------------------------------------------------------
