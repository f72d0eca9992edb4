"""Store pages for signed-in shoppers from the cache (issue 15).

A signed-in shopper's store page (home, product list, category, search, product page) shows
their own parts (cart count, like states and "liked by people you follow", picks, the banner,
their review and helpful votes, the forum notification count), so it is never shared: it is
kept for the session it was rendered for, checked against that session's shopper, and served
to the same session's next request at the cost of two Redis round trips (one read, one
pipeline of writes), before CSRF, authentication, messages and the view run
(``SignedPageCacheMiddleware``).

Why per shopper and not one shared shell with personal holes: the personal parts of these pages
are spread through them (a like button and social proof under every card, the reviews' vote and
edit links, the picks skipping the "also bought" cards), and computing them apart from the page
costs nearly what the page does. Per shopper, the rendering is paid once per page and change.

What keeps it right:

- **The session is checked as Django checks it** (``django.contrib.auth.get_user``): read as
  the configured session store reads it (cached_db: the cache entry, whose timeout is the
  session's expiry, else the database row if not expired; another engine: its own ``load``),
  the user id and backend must be there, the backend must be one of
  ``AUTHENTICATION_BACKENDS``, and the session's auth hash must equal the one the page was
  rendered under. Nothing is written to the session, so it lives exactly as long as it would.
- **Two versions.** An entry carries the storefront version (``shop.pagecache``: prices, stock,
  ratings, likes, reviews, banners) and the shopper's own version, both read before rendering;
  a hit needs both to be current. ``shoppers_changed`` forgets a shopper's version (now and
  again after the transaction commits): their user row (password, active flag, name), their
  cart, whom they follow, their forum notifications, their picks and profile
  (``personalization.selectors.register_cache_forget``), their sign-in and the privacy
  registry's cache forgetting call it (see ``connect_receivers``). The timeout
  (``AGORA_SIGNED_PAGE_CACHE_SECONDS``) is a safety net.
- **One read.** On Redis with cached_db sessions, ``LOOKUP_SCRIPT`` reads the session, the
  storefront version, the page and, through the id of the shopper the session's pages were
  kept for, that shopper's version and segments (for the banner), in one call. The id is only a
  pointer: unless it equals the session's own user id, the versions are read again for the
  session's user.
- **Per-view parts stay per view.** The CSRF token is a placeholder in the entry, filled with a
  new mask of the shopper's own CSRF secret on every hit, and the CSRF cookie is renewed as
  Django renews it. The banner is a hole (``shop.pagecache.hole``) chosen and recorded again on
  every hit; the view and search events are recorded again on every hit, for this shopper. The
  banner decision and the event go to Redis in one pipeline (``config.redisbatch``).
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
PAGE_KEY = "shop:signed:page:{}:{}"  # session digest, page digest
OWNER_KEY = "shop:signed:owner:{}"  # session digest: the user id its pages were kept for
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
    # UNLINK through the Redis client: a profile build forgets ~10,000 shoppers after each
    # incremental run, and ``cache.delete_many`` validates every key in Python (~9 us a key;
    # issue 15). Fails open like the cache.
    from personalization.selectors import cache_unlink

    keys = [USER_VERSION_KEY.format(pk) for pk in user_ids if pk is not None]
    if keys:
        cache_unlink(keys)


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
    return pagecache.page_address_digest(request)


#: One round trip for a hit: the session (cached_db keeps it in the cache), the storefront
#: version, the page, the session's owner id and, through it, the shopper's version and the
#: segments their banner needs. The owner id is only a pointer: Python checks it against the
#: session before anything read through it counts.
LOOKUP_SCRIPT = """
local found = redis.call('MGET', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
local owner = found[4]
if owner then
  found[5] = redis.call('GET', ARGV[1] .. owner .. ARGV[2])
  found[6] = redis.call('GET', ARGV[3] .. owner .. ARGV[4])
end
return found
"""
_script = None


def _store(request):
    """The session store for the request's session cookie, or None (no cookie, a malformed
    key: Django would start a new session)."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    return store if store.session_key else None


def _one_trip_lookup(store, keys: dict) -> dict | None:
    """``LOOKUP_SCRIPT`` when sessions live in this Redis cache (cached_db on the default
    cache), else None. Returns the decoded values by name; ``session`` is None when the cache
    does not hold it (then the caller loads it through the store: the database)."""
    global _script
    from config.cache import raw_redis

    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.cached_db":
        return None
    if settings.SESSION_CACHE_ALIAS != "default":
        return None
    client = raw_redis()
    if client is None:
        return None
    from personalization.segments.selectors import CACHE_KEY as SEGMENTS_KEY

    if _script is None:
        _script = client.register_script(LOOKUP_SCRIPT)
    make_key, loads = cache.make_key, cache._cache._serializer.loads
    version_prefix, _, version_suffix = make_key(USER_VERSION_KEY.format("\0")).partition("\0")
    segment_prefix, _, segment_suffix = make_key(SEGMENTS_KEY.format("\0")).partition("\0")
    names = ("session", "storefront", "entry", "owner")
    raw = _script(
        keys=[make_key(store.cache_key), *(make_key(keys[name]) for name in names[1:])],
        args=[version_prefix, version_suffix, segment_prefix, segment_suffix],
        client=client,
    )
    raw = list(raw) + [None] * (6 - len(raw))
    values = {
        name: None if value is None else loads(value)
        for name, value in zip((*names, "mine", "segments"), raw, strict=True)
    }
    return values


def lookup(request) -> tuple[str, dict, dict] | None:
    """(user id, session data, values) when ``request`` may be served from or fill this
    cache (see the module), None otherwise (Django handles it as usual). ``values``: the
    keys ``key`` and ``owner_key`` (where the page and its owner are kept), ``storefront``,
    ``mine`` (the shopper's version), ``entry`` (the page, not yet checked) and ``segments``."""
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
    store = _store(request) if digest is not None else None
    if store is None:
        return None
    # pages are kept per session (so that one round trip finds them) and checked per shopper
    session_id = hashlib.blake2b(store.session_key.encode(), digest_size=12).hexdigest()
    keys = {
        "key": PAGE_KEY.format(session_id, digest),
        "owner_key": OWNER_KEY.format(session_id),
        "storefront": pagecache.VERSION_KEY,
        "entry": PAGE_KEY.format(session_id, digest),
        "owner": OWNER_KEY.format(session_id),
    }
    values = _one_trip_lookup(store, keys) or {}
    session = values.get("session")
    if session is None:
        session = store.load()  # the database (or another engine): Django's own read
    if not session or "_messages" in session:
        return None
    user_id, backend = session.get(SESSION_KEY), session.get(BACKEND_SESSION_KEY)
    if not user_id or backend not in settings.AUTHENTICATION_BACKENDS:
        return None
    if not session.get(HASH_SESSION_KEY):
        return None
    user_id = str(user_id)
    if "storefront" not in values or str(values.get("owner")) != user_id:
        from personalization.segments.selectors import CACHE_KEY as SEGMENTS_KEY

        wanted = {
            "storefront": pagecache.VERSION_KEY,
            "entry": keys["entry"],
            "mine": USER_VERSION_KEY.format(user_id),
            "segments": SEGMENTS_KEY.format(user_id),
        }
        found = cache.get_many(list(wanted.values()))
        values = {name: found.get(key) for name, key in wanted.items()}
    values.update(key=keys["key"], owner_key=keys["owner_key"])
    return user_id, session, values


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
            found = lookup(request)
        except Exception:  # the cache or session store did not answer: Django's path decides
            logger.warning("signed page cache: lookup failed", exc_info=True)
            found = None
        if found is None:
            return self.get_response(request)
        user_id, session, values = found
        storefront, mine, entry = values["storefront"], values["mine"], values["entry"]
        auth_hash = session.get(HASH_SESSION_KEY)
        if (
            entry is not None
            and storefront is not None
            and mine is not None
            and entry.get("uid") == user_id
            and entry["storefront"] == storefront
            and entry["mine"] == mine
            and constant_time_compare(entry["hash"], auth_hash)
        ):
            try:
                return _serve(request, entry, user_id, values["segments"])
            except Exception:  # a hole that failed: render the page as if nothing was cached
                logger.exception("cached signed-in page %s could not be served", request.path)
        if storefront is None:
            storefront = pagecache._version_create()
        if mine is None:
            mine = _user_version_create(user_id)
        keys = (values["key"], values["owner_key"])
        return self._render(request, keys, user_id, auth_hash, storefront, mine)

    def _render(self, request, keys, user_id, auth_hash, storefront, mine):
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
                "uid": user_id,
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
            key, owner_key = keys
            # the owner as an int: kept as plain digits, which LOOKUP_SCRIPT builds keys from
            owner = int(user_id) if user_id.isdigit() else user_id
            cache.set_many({key: entry, owner_key: owner}, timeout())
            response[HEADER] = "miss"
        return response
