"""Store pages for signed-in shoppers from the cache (issue 15).

A signed-in shopper's store page (home, product list, category, search, product page) shows
their own parts (cart count, like states and "liked by people you follow", picks, the banner,
their review and helpful votes), so it is never shared: each shopper's page is kept under their
own user id, and served to the same shopper's next request at the cost of one session read and
one cache round trip, before CSRF, authentication, messages and the view run
(``SignedPageCacheMiddleware``).

Why per shopper and not one shared shell with personal holes: the personal parts of these pages
are spread through them (a like button and social proof under every card, the reviews' vote and
edit links, the picks skipping the "also bought" cards), and computing them apart from the page
costs nearly what the page does. Per shopper, the rendering is paid once per page and change.

What keeps it right:

- **The session is checked as Django checks it** (``django.contrib.auth.get_user``): loaded
  through the configured session store (cached_db: one cache read; an expired or deleted
  session reads as empty), the user id and backend must be there, the backend must be one of
  ``AUTHENTICATION_BACKENDS``, and the session's auth hash must equal the one the page was
  rendered under. Nothing is written to the session, so it lives exactly as long as it would.
- **Two versions.** An entry carries the storefront version (``shop.pagecache``: prices, stock,
  ratings, likes, reviews, banners) and the shopper's own version, both read before rendering;
  a hit needs both to be current, read in one ``MGET`` with the entry. ``shoppers_changed``
  forgets a shopper's version (now and again after the transaction commits): their user row
  (password, active flag, name), their cart, whom they follow, their picks and profile
  (``personalization.selectors.register_cache_forget``) and their sign-in call it (see
  ``connect_receivers``). The timeout (``AGORA_SIGNED_PAGE_CACHE_SECONDS``) is a safety net.
- **Per-view parts stay per view.** The CSRF token is a placeholder in the entry, filled with a
  new mask of the shopper's own CSRF secret on every hit, and the CSRF cookie is renewed as
  Django renews it. The banner is a hole (``shop.pagecache.hole``) chosen and recorded again on
  every hit; the product view event is recorded again on every hit, for this shopper.
- **Only what Django would render the same way is kept or served:** GET/HEAD of a store page
  with parameters the pages read, no htmx, no ``Authorization``, a session and a well-formed
  CSRF cookie, no queued message (cookie or session), a non-staff shopper, status 200, no
  cookie set but the CSRF one. Anything else goes through Django as usual.
- **Fails open:** if the cache does not answer the page is rendered as usual.

Headers added by the middlewares outside this one (security, Permissions-Policy, CSP) are
added on every hit; the stored headers are the page's own (``Vary: Cookie`` included).
"""

import hashlib
import logging
from importlib import import_module
from urllib.parse import urlencode
from uuid import uuid4

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token
from django.utils.cache import patch_vary_headers
from django.utils.crypto import constant_time_compare

from personalization.events import REPLAY

from . import pagecache

logger = logging.getLogger(__name__)

USER_VERSION_KEY = "shop:signed:uv:{}"
PAGE_KEY = "shop:signed:page:{}:{}"
VERSION_TIMEOUT = 30 * 24 * 3600
HEADER = "X-Agora-Signed-Cache"
SHOPPER = "_agora_signed_shopper"  # (user id, user version, session auth hash) of a candidate
CSRF_PLACEHOLDER = "agora-signed-csrf-5e0b7c2a91d4"  # never leaves the server
MESSAGES_COOKIE = "messages"  # django.contrib.messages' cookie storage
UNSTORED = frozenset({"set-cookie", "content-length"})


def enabled() -> bool:
    return getattr(settings, "AGORA_SIGNED_PAGE_CACHE", True)


def timeout() -> int:
    return int(getattr(settings, "AGORA_SIGNED_PAGE_CACHE_SECONDS", 300))


# --- the shopper's version ------------------------------------------------------------------


def _forget(user_ids) -> None:
    keys = [USER_VERSION_KEY.format(pk) for pk in user_ids if pk is not None]
    if keys:
        cache.delete_many(keys)


def shoppers_changed(user_ids) -> None:
    """Forget the cached store pages of the shoppers ``user_ids`` (ids; None is ignored).

    Forgets now and, inside a transaction, once more after it commits, so a page rendered from
    data read before the commit is never served afterwards. While the cache is down nothing is
    forgotten; entries then live at most ``AGORA_SIGNED_PAGE_CACHE_SECONDS``.
    """
    user_ids = [pk for pk in user_ids if pk is not None]
    if not user_ids:
        return
    _forget(user_ids)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _forget(user_ids))


def _user_version_create(user_id) -> str | None:
    key = USER_VERSION_KEY.format(user_id)
    cache.add(key, uuid4().hex[:16], VERSION_TIMEOUT)
    return cache.get(key)


def _user_changed(sender, instance, **kwargs):
    shoppers_changed([instance.pk])


def _cart_changed(sender, instance, **kwargs):
    from .models import Cart

    if isinstance(instance, Cart):
        shoppers_changed([instance.user_id])
    else:  # a cart item: its cart's owner (one small query, only on cart writes)
        owner = Cart.objects.filter(pk=instance.cart_id).values_list("user_id", flat=True)
        shoppers_changed(list(owner))


def _connection_changed(sender, instance, **kwargs):
    shoppers_changed([instance.follower_id])  # their "liked by people you follow" changes


def _signed_in(sender, user, **kwargs):
    shoppers_changed([user.pk])  # the sign-in merges a cart and may queue messages


def connect_receivers() -> None:
    """Connect ``shoppers_changed`` to what changes a shopper's own parts of the store pages
    (called by ``ShopConfig.ready``): user rows, carts and their items, follows, sign-in, and
    the forgetting of cached profiles and picks."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_in
    from django.db.models.signals import post_delete, post_save

    from personalization.selectors import register_cache_forget
    from social.models import Connection

    from .models import Cart, CartItem

    uid = "shop.signed:"
    for model, receiver in (
        (get_user_model(), _user_changed),
        (Cart, _cart_changed),
        (CartItem, _cart_changed),
        (Connection, _connection_changed),
    ):
        post_save.connect(receiver, sender=model, dispatch_uid=f"{uid}{model.__name__}:save")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"{uid}{model.__name__}:delete")
    user_logged_in.connect(_signed_in, dispatch_uid=uid + "login")
    register_cache_forget(shoppers_changed)


# --- the request ----------------------------------------------------------------------------


def _csrf_secret(request) -> str | None:
    secret = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
    if len(secret) != CSRF_SECRET_LENGTH or not set(secret) <= set(CSRF_ALLOWED_CHARS):
        return None  # Django would replace or unmask it and set a new cookie: let it
    return secret


def _page_digest(request) -> str | None:
    """A digest of the page's address, or None when the request is not for a store page that
    this cache keeps (as ``shop.pagecache.page_key``, but for a visitor with cookies)."""
    path = request.path
    exact, starts = pagecache._prefixes()
    if path not in exact and not path.startswith(starts):
        return None
    if any(name not in pagecache.PARAMS for name in request.GET):
        return None
    try:
        host = request.get_host()
    except Exception:  # DisallowedHost: Django answers it with its own 400
        return None
    items = sorted(request.GET.lists())
    query = urlencode([(k, v) for k, values in items for v in values])
    raw = f"{request.scheme}://{host}{path}?{query}"
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def _session(request):
    """The request's session data through the configured store, or None."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    return store.load()


def candidate(request) -> tuple[str, str, dict] | None:
    """(page key, user id, session data) when ``request`` may be served from or fill this
    cache: see the module. None otherwise (Django handles it as usual)."""
    if request.method not in ("GET", "HEAD") or not enabled():
        return None
    meta = request.META
    if meta.get("HTTP_AUTHORIZATION") or meta.get("HTTP_HX_REQUEST"):
        return None
    cookies = request.COOKIES
    if not cookies.get(settings.SESSION_COOKIE_NAME) or cookies.get(MESSAGES_COOKIE):
        return None
    if _csrf_secret(request) is None:
        return None
    digest = _page_digest(request)
    if digest is None:
        return None
    session = _session(request)
    if not session or "_messages" in session:
        return None
    user_id, backend = session.get(SESSION_KEY), session.get(BACKEND_SESSION_KEY)
    if not user_id or backend not in settings.AUTHENTICATION_BACKENDS:
        return None
    if not session.get(HASH_SESSION_KEY):
        return None
    user_id = str(user_id)
    return PAGE_KEY.format(user_id, digest), user_id, session


def _csrf_cookie(response, secret: str) -> None:
    """Renew the CSRF cookie as ``CsrfViewMiddleware`` does when a page used the token."""
    response.set_cookie(
        settings.CSRF_COOKIE_NAME,
        secret,
        max_age=settings.CSRF_COOKIE_AGE,
        domain=settings.CSRF_COOKIE_DOMAIN,
        path=settings.CSRF_COOKIE_PATH,
        secure=settings.CSRF_COOKIE_SECURE,
        httponly=settings.CSRF_COOKIE_HTTPONLY,
        samesite=settings.CSRF_COOKIE_SAMESITE,
    )
    patch_vary_headers(response, ("Cookie",))


def _serve(request, entry: dict, user_id: str, segments) -> HttpResponse:
    from django.middleware.csrf import _mask_cipher_secret

    from config.redisbatch import batched
    from personalization.banners.templatetags.banners import SHOPPER_RENDERER
    from personalization.events import replay_for_user

    secret = _csrf_secret(request)
    content = entry["content"].replace(
        CSRF_PLACEHOLDER.encode(), _mask_cipher_secret(secret).encode()
    )
    with batched():  # the banner decisions and the events: one round trip
        if entry["holes"]:
            filled = []
            for token, path, args in entry["holes"]:
                extra = {"segments": segments} if path == SHOPPER_RENDERER else {}
                filled.append((token, pagecache._renderer(path)(*args, **extra)))
            content = pagecache._fill(content, filled)
        if entry["events"]:
            replay_for_user(entry["events"], user_id=int(user_id))
    response = HttpResponse(b"" if request.method == "HEAD" else content, status=entry["status"])
    for name, value in entry["headers"]:
        response[name] = value
    response["Content-Length"] = str(len(content))
    if entry["csrf_cookie"]:
        _csrf_cookie(response, secret)
    response[HEADER] = "hit"
    return response


def csrf_token_for_context(request):
    """The ``csrf_token`` of a page this cache may keep: Django's token is made (so its cookie
    is renewed as usual) but the page gets a placeholder, filled per response. None for any
    other request."""
    if getattr(request, SHOPPER, None) is None:
        return None
    get_token(request)
    return CSRF_PLACEHOLDER


def _cacheable(request, response, user_id: str) -> bool:
    if request.method != "GET" or response.status_code != 200 or response.streaming:
        return False
    if not getattr(request, "agora_cookieless", False):  # a store page (shop.lazy)
        return False
    match = getattr(request, "resolver_match", None)
    if match is None or match.view_name not in pagecache.PAGE_NAMES:
        return False
    if any(name != settings.CSRF_COOKIE_NAME for name in response.cookies):
        return False  # the session was saved, or something else was set: not a plain page
    control = response.get("Cache-Control", "")
    if "no-store" in control or "no-cache" in control:
        return False
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or str(user.pk) != user_id:
        return False
    if user.is_staff or user.is_superuser:
        return False
    storage = getattr(request, "_messages", None)
    return not getattr(storage, "_queued_messages", None)


class SignedPageCacheMiddleware:
    """Serves and stores signed-in shoppers' store pages (see the module). Place it right
    after ``shop.pagecache.AnonymousPageCacheMiddleware``, before the session middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            found = candidate(request)
        except Exception:  # the session store did not answer: Django's own path decides
            logger.warning("signed page cache: session check failed", exc_info=True)
            found = None
        if found is None:
            return self.get_response(request)
        key, user_id, session = found
        from personalization.segments.selectors import CACHE_KEY as SEGMENTS_KEY

        version_key = USER_VERSION_KEY.format(user_id)
        segments_key = SEGMENTS_KEY.format(user_id)  # read with the page for its banner
        values = cache.get_many([pagecache.VERSION_KEY, version_key, key, segments_key])
        storefront, mine, entry = (
            values.get(pagecache.VERSION_KEY),
            values.get(version_key),
            values.get(key),
        )
        auth_hash = session.get(HASH_SESSION_KEY)
        if (
            entry is not None
            and storefront is not None
            and mine is not None
            and entry["storefront"] == storefront
            and entry["mine"] == mine
            and constant_time_compare(entry["hash"], auth_hash)
        ):
            try:
                return _serve(request, entry, user_id, values.get(segments_key))
            except Exception:  # a hole that failed: render the page as if nothing was cached
                logger.exception("cached signed-in page %s could not be served", request.path)
        if storefront is None:
            storefront = pagecache._version_create()
        if mine is None:
            mine = _user_version_create(user_id)
        return self._render(request, key, user_id, auth_hash, storefront, mine)

    def _render(self, request, key, user_id, auth_hash, storefront, mine):
        state = pagecache.PageState(version=storefront)
        setattr(request, pagecache.STATE, state)
        setattr(request, REPLAY, state.events)
        setattr(request, SHOPPER, (user_id, mine, auth_hash))
        response = self.get_response(request)
        if response.streaming:
            return response
        raw = response.content  # the stored copy keeps the placeholders
        content = pagecache._fill(raw, [(t, html) for t, _, _, html in state.holes])
        if CSRF_PLACEHOLDER.encode() in content:
            content = content.replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode())
        if content is not raw:
            response.content = content
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(content))
        session_hash = getattr(request, "session", {}).get(HASH_SESSION_KEY)
        if (
            storefront is not None
            and mine is not None
            and session_hash == auth_hash
            and _cacheable(request, response, user_id)
        ):
            entry = {
                "storefront": storefront,
                "mine": mine,
                "hash": auth_hash,
                "status": response.status_code,
                "headers": [(k, v) for k, v in response.items() if k.lower() not in UNSTORED],
                "content": raw,
                "holes": [(token, path, args) for token, path, args, _html in state.holes],
                "events": list(state.events),
                "csrf_cookie": settings.CSRF_COOKIE_NAME in response.cookies,
            }
            cache.set(key, entry, timeout())
            response[HEADER] = "miss"
        return response
