"""Store pages for signed-in shoppers from the cache (issue 15).

A signed-in shopper's store page (home, product list, category, search, product page) shows
their own parts (cart count, like states and "liked by people you follow", picks, the banner,
their review and helpful votes, the forum notification count), so it is never shared: it is
kept for the session it was rendered for, checked against that session's shopper, and served
to the same session's next request at the cost of one Redis round trip (the check and the
hit's writes), before Django's handler and its middlewares run.

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
  cart, whom they follow, their forum notifications, their sign-in and the privacy registry's
  cache forgetting call it (see ``connect_receivers``); a forget of their picks and profile
  forgets it in the same Redis call (``version_keys``, registered with
  ``personalization.selectors.register_shopper_cache``). The timeout
  (``AGORA_SIGNED_PAGE_CACHE_SECONDS``) is a safety net.
- **One round trip per hit.** Each process keeps the pages it served lately (``Copy``, by
  session and page, ``AGORA_PAGE_MEMO_BYTES`` like ``shop.pagecache``'s) with the raw values of
  the session, the storefront version and the shopper's version and segments it was checked
  against. A hit runs ``HIT_SCRIPT``: it compares those four keys (all declared) with the copy's
  values and, only when all are unchanged, makes the hit's writes (banner decisions, events) in
  the same atomic step. Anything changed (a session saved, signed out, expired; a version
  forgotten; new segments) and the page is looked up again from the start: the session, the
  storefront version and the stored page in one ``MGET``, the session checked (above), the
  shopper's version and segments in a second, and a current page becomes the new copy.
- **Before Django.** ``SignedPageCacheApplication`` (``config.wsgi``) answers a hit before
  Django's handler and middlewares run; ``SignedPageCacheMiddleware``, first but for the
  anonymous one, answers it the same way for what does not come through the wrapper (the test
  client) and stores misses. Being outside the security, Permissions-Policy and CSP middlewares,
  it stores the headers exactly as they left them, so a hit sends those very headers.
- **Values read raw.** The session and the versions are written through Django's cache API and
  read here as Redis holds them (compared as bytes in the script, decoded with the cache's own
  ``RedisSerializer``: Django offers no public way to decode a raw value). A value it cannot
  decode makes the lookup fail, and Django handles the request as usual.
- **Redis Cluster:** the script declares every key it reads or writes, but they do not share a
  hash slot (the session's key is Django's), so it needs one Redis (as Agora runs), not a
  cluster.
- **Per-view parts stay per view.** The CSRF token is a placeholder in the entry, filled with a
  new mask of the shopper's own CSRF secret on every hit, and the CSRF cookie is renewed as
  Django renews it. The banner is a hole (``shop.pagecache.hole``) chosen and recorded again on
  every hit; the view and search events are recorded again on every hit, for this shopper. The
  banner decision and the event are written by the hit's script (``defer_redis_write``), or in
  one pipeline (``config.redisbatch``) for a page served without a process copy. A banner's
  frequency-cap count is made by its renderer, before the check: a hit that is then not
  served has counted one view more (the cap shows the banner once less, never breaks).
- **Only what Django would render the same way is kept or served:** GET/HEAD of a store page
  with parameters the pages read, no htmx, no ``Authorization``, a session and a well-formed
  CSRF cookie, no queued message (cookie or session), a non-staff shopper, status 200, no
  cookie set but the CSRF one. Anything else goes through Django as usual.
- **Fails open:** if the cache does not answer the page is rendered as usual.

The stored headers are those the response left the outermost middleware with (``Vary: Cookie``
included), except ``Set-Cookie`` (the CSRF cookie is renewed per hit) and ``Content-Length``.
"""

import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib import import_module
from uuid import uuid4

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token
from django.urls import set_script_prefix
from django.utils.cache import patch_vary_headers
from django.utils.crypto import constant_time_compare
from redis.exceptions import NoScriptError

from config.cache import deferred_redis_writes
from personalization.events import REPLAY

from . import pagecache

logger = logging.getLogger(__name__)

USER_VERSION_KEY = "shop:signed:uv:{}"
PAGE_KEY = "shop:signed:page:{}:{}"  # session digest, page digest
#: ``environ`` key: what the WSGI wrapper found for a request it did not serve.
LOOKED = "agora.signed.looked"
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
    from config.cache import cache_forget

    keys = version_keys(user_ids)
    if keys:
        cache_forget(keys)


def version_keys(user_ids) -> list[str]:
    """The cache keys of the page versions of the shoppers ``user_ids`` (None is skipped):
    forgotten with their profiles (``personalization.selectors.register_shopper_cache``)."""
    return [USER_VERSION_KEY.format(pk) for pk in user_ids if pk is not None]


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

    from personalization.selectors import register_shopper_cache
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
    register_shopper_cache(version_keys)


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


def _store(request):
    """The session store for the request's session cookie, or None (no cookie, a malformed
    key: Django would start a new session)."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    return store if store.session_key else None


def _client():
    """The raw Redis client when sessions live in this Redis cache (cached_db on the default
    cache), else None (the generic path: the cache API and the session store)."""
    from config.cache import raw_redis

    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.cached_db":
        return None
    if settings.SESSION_CACHE_ALIAS != "default":
        return None
    return raw_redis()


def _loads(raw: bytes | None):
    """A value as the cache keeps it (Django's ``RedisSerializer``: plain digits for ints,
    pickle otherwise), or None for a missing key."""
    return None if raw is None else pagecache._serializer().loads(raw)


# --- a process's copies: one Redis round trip per hit ------------------------------------

#: The hit of a page this process holds (``Copy``): every key it depends on is declared.
#: KEYS: the session, the storefront version, the shopper's version, the shopper's segments,
#: then one key per write. ARGV: the values those four keys held when the copy was checked
#: (as Redis holds them; "" for a missing segments entry), the number of writes, then per
#: write: command, argument count, arguments. Returns 1 when all four still hold those values
#: (the writes are made), else 0 (nothing is written).
HIT_SCRIPT = """
local found = redis.call('MGET', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
for n = 1, 4 do
  if (found[n] or '') ~= ARGV[n] then
    return 0
  end
end
local i = 6
for w = 1, tonumber(ARGV[5]) do
  local count = tonumber(ARGV[i + 1])
  redis.call(ARGV[i], KEYS[4 + w], unpack(ARGV, i + 2, i + 1 + count))
  i = i + 2 + count
end
return 1
"""
_CSRF = object()  # in Copy.parts: where the masked CSRF token goes


HIT_SCRIPT_SHA = hashlib.sha1(HIT_SCRIPT.encode()).hexdigest()  # noqa: S324 (Redis names it so)


def _run_hit_script(client, keys: list, args: list):
    """``HIT_SCRIPT`` by its SHA on the process's own connection for hits
    (``shop.pagecache.LINE``: no pool checkout, retry wrapper or callbacks, ~25 µs of a hit;
    issue 15), loaded first when the server does not know it (a restarted or flushed Redis).
    Returns the script's reply (1 or 0); raises ``REDIS_DOWN`` errors and error replies."""
    try:
        return pagecache.LINE.call(client, "EVALSHA", HIT_SCRIPT_SHA, len(keys), *keys, *args)
    except NoScriptError:
        client.script_load(HIT_SCRIPT)
        return pagecache.LINE.call(client, "EVALSHA", HIT_SCRIPT_SHA, len(keys), *keys, *args)


@dataclass
class Copy:
    """A process's copy of a shopper's stored page and the snapshot it was checked against:
    the raw values of the session, the storefront version, the shopper's version and segments
    when the session, the shopper and the page were found to agree (see ``lookup``). It is
    served only while Redis still holds exactly those values (``HIT_SCRIPT``)."""

    user_id: str
    keys: tuple  # the four keys' full Redis names
    snapshot: tuple  # their values then (bytes; b"" for no segments entry)
    segments: object  # the decoded segments entry, for the banner
    status: int
    headers: list  # (name, value) as the response left the outermost middleware
    parts: list  # bytes, and hole numbers and _CSRF where those go
    holes: list  # (renderer dotted path, args)
    events: list  # (kind, product id or None, attributes)
    csrf_cookie: bool
    expires: float  # time.time() after which it is not served (the entry's lifetime)
    size: int
    shopper: object = None  # the shopper (an unsaved instance with their id), for the events
    replays: list = field(default_factory=list)  # events as (kind, product or None, attributes)
    csrf_at: list = field(default_factory=list)  # where in ``parts`` the CSRF token goes
    holes_at: list = field(default_factory=list)  # (index in ``parts``, hole number)

    @classmethod
    def build(cls, user_id, keys, snapshot, segments, entry: dict) -> "Copy":
        parts: list = [entry["content"]]
        markers = [(CSRF_PLACEHOLDER.encode(), _CSRF)]
        markers += [(token.encode(), n) for n, (token, _p, _a) in enumerate(entry["holes"])]
        for marker, tag in markers:
            split = []
            for part in parts:
                if not isinstance(part, bytes):
                    split.append(part)
                    continue
                for n, piece in enumerate(part.split(marker)):
                    split += [tag, piece] if n else [piece]
            parts = split
        from django.contrib.auth import get_user_model

        from .models import Product

        replays = [  # the instances replay_for_user would make on every hit, made once
            (kind, Product(pk=product_id) if product_id is not None else None, attributes)
            for kind, product_id, attributes in entry["events"]
        ]
        return cls(
            csrf_at=[at for at, part in enumerate(parts) if part is _CSRF],
            holes_at=[(at, part) for at, part in enumerate(parts) if isinstance(part, int)],
            shopper=get_user_model()(pk=int(user_id)),
            replays=replays,
            user_id=user_id,
            keys=tuple(keys),
            snapshot=tuple(snapshot),
            segments=segments,
            status=entry["status"],
            headers=entry["headers"],
            parts=parts,
            holes=[(path, args) for _token, path, args in entry["holes"]],
            events=entry["events"],
            csrf_cookie=entry["csrf_cookie"],
            expires=entry["expires"],
            size=len(entry["content"]),
        )

    def fill(self, secret: str) -> bytes:
        """The body with a new mask of the CSRF ``secret`` and every hole rendered now."""
        from personalization.banners.templatetags.banners import SHOPPER_RENDERER

        html = []
        for path, args in self.holes:
            extra = {"segments": self.segments} if path == SHOPPER_RENDERER else {}
            html.append(pagecache._renderer(path)(*args, **extra).encode())
        parts = list(self.parts)
        token = _mask(secret).encode()
        for at in self.csrf_at:
            parts[at] = token
        for at, number in self.holes_at:
            parts[at] = html[number]
        return b"".join(parts)

    def replay(self) -> None:
        """Record the page's view and search events again for the shopper, exactly as
        ``personalization.events.replay_for_user`` does (with the instances made once)."""
        from personalization.events import record_streamed

        for kind, product, attributes in self.replays:
            record_streamed(kind, user=self.shopper, product=product, **attributes)


class _Memo(pagecache._Memo):
    """``shop.pagecache``'s memory of pages, which can also drop one."""

    def discard(self, key: str) -> None:
        with self._lock:
            old = self._copies.pop(key, None)
            if old is not None:
                self._bytes -= old.size


MEMO = _Memo()  # this process's copies, by session and page (AGORA_PAGE_MEMO_BYTES)


def _mask(secret: str) -> str:
    """A new masked token of the CSRF ``secret``, as ``django.middleware.csrf`` makes one
    (a uniformly drawn mask from ``os.urandom``, then the secret shifted by it), at a fraction
    of ``get_random_string``'s cost. Django's ``_unmask_cipher_token`` reads it back."""
    chars, size = CSRF_ALLOWED_CHARS, len(CSRF_ALLOWED_CHARS)
    limit = 256 - 256 % size  # bytes at or above it are dropped: no bias
    mask: list[int] = []
    while len(mask) < CSRF_SECRET_LENGTH:
        mask += [b % size for b in os.urandom(2 * CSRF_SECRET_LENGTH) if b < limit]
    mask = mask[:CSRF_SECRET_LENGTH]
    index = _CSRF_INDEX
    cipher = "".join(chars[(index[c] + m) % size] for c, m in zip(secret, mask, strict=True))
    return "".join(chars[m] for m in mask) + cipher


_CSRF_INDEX = {c: n for n, c in enumerate(CSRF_ALLOWED_CHARS)}


def _attempt(client, copy: Copy, secret: str) -> bytes | None:
    """One round trip: the filled body when ``copy``'s snapshot still holds (the hit's banner
    decisions and events are then written in the same atomic step), else None (nothing is
    written; a renderer's frequency-cap count may have been made)."""
    from personalization.events import stream_client

    streamed = stream_client() is not None
    with deferred_redis_writes() as writes:
        body = copy.fill(secret)
        if copy.events and streamed:
            copy.replay()
    keys, args = list(copy.keys), [*copy.snapshot, len(writes)]
    for command, key, wargs in writes:
        keys.append(key)
        args += [command, len(wargs), *wargs]
    if _run_hit_script(client, keys, args) != 1:
        return None
    if copy.events and not streamed:  # one insert each, after the check (as record_streamed)
        copy.replay()
    return body


# --- the lookup -----------------------------------------------------------------------------


@dataclass
class Found:
    """What ``lookup`` decided: ``kind`` "hit" (send ``copy``'s headers and ``body``), "serve"
    (a current ``entry`` to serve with ``_serve``: a session read from the database, or a
    cache that is not Redis), "render" (render and keep the page) or "pass" (Django as usual).
    """

    kind: str
    secret: str = ""
    copy: Copy | None = None
    body: bytes = b""
    entry: dict | None = None
    user_id: str = ""
    auth_hash: str = ""
    storefront: object = None
    mine: object = None
    segments: object = None
    key: str = ""

    def headers(self) -> list[tuple[str, str]]:
        """A hit's WSGI headers: the stored ones, the length, the CSRF cookie as Django renews
        it, and the hit mark."""
        headers = [*self.copy.headers, ("Content-Length", str(len(self.body))), (HEADER, "hit")]
        if self.copy.csrf_cookie:
            headers.append(("Set-Cookie", _csrf_cookie_line(self.secret)))
        return headers

    def response(self, request) -> HttpResponse:
        """A hit as an ``HttpResponse`` (the middleware's path)."""
        body = b"" if request.method == "HEAD" else self.body
        response = HttpResponse(body, status=self.copy.status)
        for name, value in self.copy.headers:
            response[name] = value
        response["Content-Length"] = str(len(self.body))
        if self.copy.csrf_cookie:
            _csrf_cookie(response, self.secret)
        response[HEADER] = "hit"
        return response


PASS = Found("pass")


def lookup(request, client=False) -> Found:
    """Decide how ``request`` is answered (see the module and ``Found``). With a process copy
    of the page and the session's values unchanged: one Redis round trip, the hit's writes
    included. Otherwise the session, the storefront version and the page are read in one
    ``MGET``, the session checked as Django checks it, then the shopper's version and segments
    in a second; a current page becomes this process's copy and is served with a third.
    ``client``: the raw Redis client (``_client()``) when the caller holds it already.
    Raises the Redis client's errors (the callers fall back to Django)."""
    if request.method not in ("GET", "HEAD") or not enabled():
        return PASS
    meta = request.META
    if meta.get("HTTP_AUTHORIZATION") or meta.get("HTTP_HX_REQUEST"):
        return PASS
    cookies = request.COOKIES
    if not cookies.get(settings.SESSION_COOKIE_NAME) or cookies.get(MESSAGES_COOKIE):
        return PASS
    secret = _csrf_secret(request)
    if secret is None:
        return PASS
    digest = _page_digest(request)
    store = _store(request) if digest is not None else None
    if store is None:
        return PASS
    # pages are kept per session (so that one read finds them) and checked per shopper
    session_id = hashlib.blake2b(store.session_key.encode(), digest_size=12).hexdigest()
    key = PAGE_KEY.format(session_id, digest)
    client = _client() if client is False else client
    memo_key = f"{session_id}:{digest}"
    make_key = cache.make_key
    session_key = make_key(store.cache_key)
    if client is not None:
        copy = MEMO.get(memo_key)
        if copy is not None and copy.expires > time.time() and copy.keys[0] == session_key:
            body = _attempt(client, copy, secret)
            if body is not None:
                return Found("hit", secret=secret, copy=copy, body=body)
        if copy is not None:  # out of date: made again below if the page is still current
            MEMO.discard(memo_key)
    keys = [session_key, make_key(pagecache.VERSION_KEY), make_key(key)]
    if client is not None:
        raw_session, raw_storefront, raw_entry = client.mget(keys)
        session, storefront, entry = map(_loads, (raw_session, raw_storefront, raw_entry))
    else:
        found = cache.get_many([pagecache.VERSION_KEY, key])
        raw_session, session = None, None
        storefront, entry = found.get(pagecache.VERSION_KEY), found.get(key)
    if session is None:
        raw_session, session = None, store.load()  # the database: Django's own read
    if not session or "_messages" in session:
        return PASS
    user_id, backend = session.get(SESSION_KEY), session.get(BACKEND_SESSION_KEY)
    auth_hash = session.get(HASH_SESSION_KEY)
    if not user_id or backend not in settings.AUTHENTICATION_BACKENDS or not auth_hash:
        return PASS
    user_id = str(user_id)
    from personalization.segments.selectors import CACHE_KEY as SEGMENTS_KEY

    mine_key, segments_key = USER_VERSION_KEY.format(user_id), SEGMENTS_KEY.format(user_id)
    if client is not None:
        raw_mine, raw_segments = client.mget([make_key(mine_key), make_key(segments_key)])
        mine, segments = _loads(raw_mine), _loads(raw_segments)
    else:
        found = cache.get_many([mine_key, segments_key])
        mine, segments = found.get(mine_key), found.get(segments_key)
    current = (
        entry is not None
        and storefront is not None
        and mine is not None
        and entry.get("uid") == user_id
        and entry["storefront"] == storefront
        and entry["mine"] == mine
        and constant_time_compare(entry["hash"], auth_hash)
    )
    if current and client is not None and raw_session is not None and "expires" in entry:
        copy = Copy.build(
            user_id,
            (*keys[:2], make_key(mine_key), make_key(segments_key)),
            (raw_session, raw_storefront, raw_mine, raw_segments or b""),
            segments,
            entry,
        )
        body = _attempt(client, copy, secret)
        if body is not None:
            MEMO.put(memo_key, copy)
            return Found("hit", secret=secret, copy=copy, body=body)
        current = False  # changed meanwhile: render
    if current:
        return Found(
            "serve", secret=secret, entry=entry, user_id=user_id, segments=segments, key=key
        )
    return Found(
        "render", user_id=user_id, auth_hash=auth_hash, storefront=storefront, mine=mine, key=key
    )


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


def _csrf_cookie_line(secret: str) -> str:
    """The ``Set-Cookie`` value ``_csrf_cookie`` makes for ``secret`` now (its Expires has
    whole seconds, so the line is kept for the second it was made in)."""
    global _cookie_line
    now = int(time.time())
    if _cookie_line[:2] != (secret, now):
        from django.http import HttpResponseBase

        response = HttpResponseBase()
        _csrf_cookie(response, secret)
        line = response.cookies[settings.CSRF_COOKIE_NAME].output(header="")
        _cookie_line = (secret, now, line)
    return _cookie_line[2]


_cookie_line: tuple = ("", 0, "")


def _serve(request, found: Found) -> HttpResponse:
    """A current entry without a process copy (a session read from the database, or a cache
    that is not Redis): the holes rendered and the events recorded, in one pipeline."""
    from config.redisbatch import batched
    from personalization.banners.templatetags.banners import SHOPPER_RENDERER
    from personalization.events import replay_for_user

    entry, secret = found.entry, found.secret
    content = entry["content"].replace(CSRF_PLACEHOLDER.encode(), _mask(secret).encode())
    with batched():  # the banner decisions and the events: one round trip
        if entry["holes"]:
            filled = []
            for token, path, args in entry["holes"]:
                extra = {"segments": found.segments} if path == SHOPPER_RENDERER else {}
                filled.append((token, pagecache._renderer(path)(*args, **extra)))
            content = pagecache._fill(content, filled)
        if entry["events"]:
            replay_for_user(entry["events"], user_id=int(found.user_id))
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
    after ``shop.pagecache.AnonymousPageCacheMiddleware`` (first but for that one), so that
    the headers it stores are those every middleware added; ``SignedPageCacheApplication``
    answers hits before Django and leaves what it found for this middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = request.META.pop(LOOKED, None)  # the WSGI wrapper looked already
        if found is None:
            try:
                found = lookup(request)
            except Exception:  # the cache or session store did not answer: Django decides
                logger.warning("signed page cache: lookup failed", exc_info=True)
                found = PASS
        if found.kind == "hit":
            return found.response(request)
        if found.kind == "serve":
            try:
                return _serve(request, found)
            except Exception:  # a hole that failed: render the page as if nothing was cached
                logger.exception("cached signed-in page %s could not be served", request.path)
            found = Found(
                "render",
                user_id=found.user_id,
                auth_hash=found.entry["hash"],
                storefront=found.entry["storefront"],
                mine=found.entry["mine"],
                key=found.key,
            )
        if found.kind != "render":
            return self.get_response(request)
        storefront, mine = found.storefront, found.mine
        if storefront is None:
            storefront = pagecache._version_create()
        if mine is None:
            mine = _user_version_create(found.user_id)
        return self._render(request, found.key, found.user_id, found.auth_hash, storefront, mine)

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
            key
            and storefront is not None
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
                "headers": [
                    (k, v)
                    for k, v in response.items()
                    if k.lower() not in UNSTORED and k not in (HEADER, pagecache.HEADER)
                ],
                "content": raw,
                "holes": [(token, path, args) for token, path, args, _html in state.holes],
                "events": list(state.events),
                "csrf_cookie": settings.CSRF_COOKIE_NAME in response.cookies,
                "expires": time.time() + timeout(),
            }
            cache.set(key, entry, timeout())
            response[HEADER] = "miss"
        return response


class SignedPageCacheApplication:
    """WSGI wrapper of Django's application: answers a signed-in shopper's hit (see the
    module) before Django's handler, its signals and its middlewares run, with the headers
    those middlewares left on the stored page; everything else, including a request whose
    Host ``ALLOWED_HOSTS`` refuses, goes to ``application``, with what the lookup found for
    ``SignedPageCacheMiddleware``.

    A hit runs no ``request_started``/``request_finished`` signal: it uses no database
    connection while Redis answers (with the event stream off, its events are inserted in
    autocommit, as a rendered page's are)."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        cookie = environ.get("HTTP_COOKIE")
        if (
            cookie
            and environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME in cookie
            and enabled()
        ):
            found = self._look(environ)
            if found is not None and found.kind == "hit":
                status = f"{found.copy.status} {HTTPStatus(found.copy.status).phrase}"
                start_response(status, found.headers())
                return [b"" if environ["REQUEST_METHOD"] == "HEAD" else found.body]
        return self.application(environ, start_response)

    @staticmethod
    def _look(environ) -> Found | None:
        # cheap first: only the store pages' paths (under a SCRIPT_NAME, PATH_INFO never
        # matches these prefixes, which include it: the middleware serves those)
        path, (exact, starts) = environ.get("PATH_INFO", ""), pagecache._prefixes()
        if path not in exact and not path.startswith(starts):
            return None
        client = _client()
        if client is None:
            return None
        try:
            set_script_prefix(get_script_name(environ))
            found = lookup(WSGIRequest(environ), client)
        except Exception:  # never worse than Django: it renders the page (or its own error)
            logger.warning("signed page cache: lookup failed", exc_info=True)
            environ[LOOKED] = PASS  # the middleware does not ask Redis again
            return None
        if found.kind != "hit":
            environ[LOOKED] = found
        return found
