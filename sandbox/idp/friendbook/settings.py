"""Settings of Friendbook, the sandbox identity provider. Separate from the store's settings.

Environment: FRIENDBOOK_VAR_DIR (database and signing key; default sandbox/idp/var),
FRIENDBOOK_CLIENT_ID / FRIENDBOOK_CLIENT_SECRET / FRIENDBOOK_REDIRECT_URIS (the store as a
client), FRIENDBOOK_FAST_HASHER=1 (tests: cheap password hashing).
"""

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FRIENDBOOK_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = os.environ.get("FRIENDBOOK_DEBUG", "1") == "1"
SECRET_KEY = os.environ.get("FRIENDBOOK_SECRET_KEY", "friendbook-sandbox-not-a-secret-0123456789")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "friendbook",  # first: its templates override allauth's
    "allauth",
    "allauth.account",
    "allauth.idp.oidc",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]
ROOT_URLCONF = "friendbook.urls"
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
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("FRIENDBOOK_DATABASE", str(VAR_DIR / "friendbook.sqlite3")),
        "OPTIONS": {"timeout": 20},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The store runs on the same host (another port): cookies must not collide with its own.
SESSION_COOKIE_NAME = "friendbook_session"
CSRF_COOKIE_NAME = "friendbook_csrftoken"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"

AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
if os.environ.get("FRIENDBOOK_FAST_HASHER") == "1":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_RATE_LIMITS = False
ACCOUNT_LOGOUT_ON_GET = False
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"


def _private_key() -> str:
    path = VAR_DIR / "oidc_private_key.pem"
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pem)
        tmp.replace(path)
    return path.read_text()


IDP_OIDC_PRIVATE_KEY = _private_key()
IDP_OIDC_ADAPTER = "friendbook.adapter.FriendbookOIDCAdapter"

FRIENDBOOK_CLIENT_ID = os.environ.get("FRIENDBOOK_CLIENT_ID", "agora-store")
FRIENDBOOK_CLIENT_SECRET = os.environ.get("FRIENDBOOK_CLIENT_SECRET", "agora-store-dev-secret")
FRIENDBOOK_REDIRECT_URIS = [
    uri.strip()
    for uri in os.environ.get(
        "FRIENDBOOK_REDIRECT_URIS",
        ",".join(
            f"http://{host}:{port}/accounts/oidc/friendbook/login/callback/"
            for host in ("127.0.0.1", "localhost")
            for port in (8000, 8100)
        ),
    ).split(",")
    if uri.strip()
]
