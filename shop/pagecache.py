"""Whole-page cache for anonymous visitors without cookies (issue 15).

A visitor with no cookie at all and no ``Authorization`` header sees the store's pages (home,
product list, category, search, product page) exactly as every other such visitor does
(``shop.lazy``: no session, no CSRF token, no messages), so the page's bytes are kept in Redis
and served to the next one before sessions, CSRF, authentication and the view run.

The hit path (``AGORA_PAGE_CACHE_FAST``, default on, with Redis):

- ``PageCacheApplication`` wraps ``config.wsgi.application`` and answers a hit before Django's
  handler and middlewares run; ``AnonymousPageCacheMiddleware``, the *first* middleware, answers
  it the same way for whatever does not come through that wrapper (the test client) and stores
  misses. Being first, it stores the headers exactly as every middleware left them (security,
  Permissions-Policy, CSP, X-Frame-Options ...), so a hit sends those very headers.
- **One Redis round trip per hit:** each process keeps the pages it served lately (raw bytes
  and small metadata, ``AGORA_PAGE_MEMO_BYTES``, default 32 MB); a hit runs one Lua script
  (``EVALSHA``) that reads the storefront version and, only when it equals the version of the
  process's copy, appends the hit's records in the same atomic step: the banner decisions
  (``RPUSH``) and the replayed view and search events (``XADD``), the very writes the rendered
  page makes (``config.cache.deferred_redis_writes``). When it does not, the script returns
  the stored entry instead (a Redis hash: version, pickled metadata, raw body) and nothing is
  written; the process keeps that entry and sends the records in a second trip (a process's
  first hit of a page and version), or renders the page when no entry is current.
- **Cheap in Python too** (issue 15: a hit's CPU, not its queries, is what is left): the
  script runs on a connection of the process's own (``config.cache.OwnConnection``: no pool
  checkout, no retry wrapper; fork-safe), the cache's keys, client and serializer are resolved
  once per backend (``_Site``), an address's key once per process (``_Addresses``, forgotten
  on any setting change), and each copy prepares its holes and replayed events once
  (a renderer's ``prepare``; ``personalization.events.prepare_replay``), so a hit only draws
  what must differ per view (a decision uuid, a variant, the time).
- The wrapper keeps Django's rules: ``ALLOWED_HOSTS`` (a bad Host falls through to Django's 400),
  the HTTPS redirect (an ``http`` key is never stored while ``SECURE_SSL_REDIRECT`` turns it
  into a redirect), GET and HEAD only (HEAD: the headers with an empty body).

What keeps it right:

- **One storefront version.** Every entry carries the version it was rendered under, read
  before rendering; a hit needs the entry's version to equal the current one, compared inside
  Redis (Lua) or in one ``MGET`` without the fast path. ``storefront_changed()`` gives the
  storefront a new version: the services that change what these pages show call it (stock
  moved by checkout and order cancellations, ratings, verified-buyer marks, helpful counts,
  banners, the popular picks, catalogue edits), and a ``post_save``/``post_delete`` receiver on
  the models these pages show covers admin edits and every ``save()`` (see
  ``connect_receivers``). It bumps at once and again after the transaction commits, so a page
  rendered from data read before the commit is never kept under the new version. The timeout
  (``AGORA_PAGE_CACHE_SECONDS``, 300 s) is only a safety net; a process's copy obeys it too.
- **Only shareable responses are kept:** a GET of a page marked ``cookieless_for_visitors``
  and named in ``PAGE_NAMES``, status 200, no Set-Cookie, no ``Cache-Control: private`` or
  ``no-store``, no queued message, an anonymous user; query parameters limited to the product
  filters' (others, htmx requests and any cookie bypass the cache). The key is the scheme, the
  host, the path and the parameters sorted by name.
- **Per-view parts stay per view (holes).** A part that must differ per view even for cookieless
  visitors (the banner: a decision row with its own id and an A/B variant drawn per view) is
  stored as a placeholder and rendered again on every hit (``hole``). View and search events
  recorded by the page are recorded again on every hit (``personalization.events.replay``).
  Hole renderers run before the version check: their Redis writes must go through
  ``config.cache.defer_redis_write`` (the banner's do), so a hit that is not served writes
  nothing. With the event stream off, the events are inserted after the check.
- **Fails open:** if Redis does not answer the page is rendered as usual, and records as
  usual (a hit's writes are never half made: the script is atomic, and a failed one is
  followed by the rendered page's own records).

Without the fast path (``AGORA_PAGE_CACHE_FAST=0``, the previous design, kept for the A/B bench
and for a cache that is not Redis) the middleware sits after WhiteNoise, reads the version and
a pickled entry in one ``MGET`` and writes the records one command each.
"""

import functools
import hashlib
import itertools
import logging
import os
import pickle
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache as once
from http import HTTPStatus
from urllib.parse import urlencode
from uuid import uuid4

from django.conf import settings
from django.core.cache import cache, caches
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.core.signals import setting_changed
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse, set_script_prefix
from django.utils.module_loading import import_string
from redis.exceptions import NoScriptError

from config.cache import REDIS_DOWN, OwnConnection, deferred_redis_writes, raw_redis
from personalization.events import REPLAY

logger = logging.getLogger(__name__)

VERSION_KEY = "shop:v:storefront"
PAGE_KEY = "shop:page:{}"
VERSION_TIMEOUT = 30 * 24 * 3600
PAGE_NAMES = frozenset({"shop:home", "shop:product_list", "shop:category", "shop:product"})
#: The query parameters the store pages read: ProductFilter's fields and the page number, and
#: the product page's reviews sorting, star filter and page (social.reviews).
PARAMS = frozenset(
    {"q", "category", "min_price", "max_price", "brand", "colour", "size", "in_stock", "sort"}
    | {"page", "rsort", "rstars", "rpage"}
)
STATE = "_agora_page_cache"
UNSTORED = frozenset({"set-cookie", "content-length"})  # the length is the filled body's
HEADER = "X-Agora-Page-Cache"


def enabled() -> bool:
    return getattr(settings, "AGORA_PAGE_CACHE", True)


def timeout() -> int:
    return int(getattr(settings, "AGORA_PAGE_CACHE_SECONDS", 300))


def fast() -> bool:
    """True when hits take the one-round-trip path (``AGORA_PAGE_CACHE_FAST``, default on);
    it needs the cache to be Redis, else the ``MGET`` path serves."""
    return getattr(settings, "AGORA_PAGE_CACHE_FAST", True)


# --- the version ----------------------------------------------------------------------------


def _bump() -> None:
    cache.set(VERSION_KEY, uuid4().hex[:16], VERSION_TIMEOUT)


def storefront_changed() -> None:
    """Give the storefront a new version: no cached page rendered before is served again.

    Bumps now and, inside a transaction, once more after it commits (a page rendered meanwhile
    from the old data is kept under the intermediate version, which nobody reads). While the
    cache is down nothing is bumped; entries then live at most ``AGORA_PAGE_CACHE_SECONDS``.
    """
    _bump()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_bump)


def _version_create() -> str | None:
    cache.add(VERSION_KEY, uuid4().hex[:16], VERSION_TIMEOUT)
    return cache.get(VERSION_KEY)


#: Models whose rows these pages show: any save or delete bumps the version (admin edits too).
WATCHED = (
    "shop.Category",
    "shop.Brand",
    "shop.Product",
    "shop.ProductImage",
    "shop.Variant",
    "reviews.Review",
    "reviews.ReviewPhoto",
    "reviews.Question",
    "reviews.Answer",
    "engagement.Like",
    "engagement.PublicProfile",
    "engagement.StoreSocialAccount",
    "banners.Banner",
    "banners.BannerVariant",
)


def _changed(sender, **kwargs):
    storefront_changed()


def connect_receivers() -> None:
    """Connect the version bump to every model in ``WATCHED`` (called by ``ShopConfig.ready``)."""
    from django.apps import apps
    from django.db.models.signals import m2m_changed, post_delete, post_save

    for label in WATCHED:
        model = apps.get_model(label)
        uid = f"pagecache:{label}"
        post_save.connect(_changed, sender=model, dispatch_uid=uid + ":save")
        post_delete.connect(_changed, sender=model, dispatch_uid=uid + ":delete")
        for m2m in model._meta.many_to_many:
            m2m_changed.connect(
                _changed, sender=m2m.remote_field.through, dispatch_uid=uid + m2m.name
            )


# --- holes ----------------------------------------------------------------------------------


@dataclass
class PageState:
    """What a candidate request's rendering left for the cache: holes and events to replay."""

    version: str | None
    holes: list = field(default_factory=list)  # (token, renderer dotted path, args, html)
    events: list = field(default_factory=list)  # filled by personalization.events
    token: bytes | None = None  # the version as Redis holds it (the fast path compares bytes)


def hole(request, renderer: str, args: tuple, html: str) -> str:
    """``html`` for this response; in a page that may be cached, a placeholder that the cache
    fills with ``renderer(*args)`` (a dotted path to a function returning HTML) on every hit,
    and with ``html`` for this response. ``args`` must be picklable. A renderer may have a
    ``prepare(*args)`` attribute returning a zero-argument callable that renders exactly as
    ``renderer(*args)`` does (a process's copy calls it once and the callable on each hit)."""
    state = getattr(request, STATE, None) if request is not None else None
    if state is None:
        return html
    token = f"<!--agora-hole-{uuid4().hex}-->"
    state.holes.append((token, renderer, tuple(args), html))
    return token


def _fill(content: bytes, holes) -> bytes:
    for token, html in holes:
        content = content.replace(token.encode(), html.encode())
    return content


@once
def _renderer(path: str):
    return import_string(path)


def _prepared(path: str, args: tuple):
    """A zero-argument callable that renders the hole ``renderer(*args)`` as the renderer does:
    the renderer's own ``prepare(*args)`` when it has one (work shared by every hit of a copy
    done once per copy), else the renderer bound to ``args``."""
    renderer = _renderer(path)
    prepare = getattr(renderer, "prepare", None)
    return prepare(*args) if prepare is not None else functools.partial(renderer, *args)


# --- the middleware -------------------------------------------------------------------------


@once
def _prefixes() -> tuple[set[str], tuple[str, ...]]:
    exact = {reverse("shop:home"), reverse("shop:product_list")}
    starts = tuple(
        reverse(name, args=["x"]).removesuffix("x/") for name in ("shop:category", "shop:product")
    )
    return exact, starts


def page_key(request) -> str | None:
    """The cache key of ``request``'s page, or None when it must not use the cache."""
    if request.method not in ("GET", "HEAD") or not enabled():
        return None
    meta = request.META
    if meta.get("HTTP_COOKIE") or meta.get("HTTP_AUTHORIZATION") or meta.get("HTTP_HX_REQUEST"):
        return None
    digest = page_address_digest(request)
    return None if digest is None else PAGE_KEY.format(digest)


def page_address_digest(request) -> str | None:
    """32 hex digits naming ``request``'s store page (scheme, host, path, the parameters the
    pages read, sorted by name), or None when it is not a store page these caches keep: another
    path, a parameter the pages do not read, or a host Django refuses (``DisallowedHost``, which
    Django then answers with its 400 page). Shared by this cache and ``shop.signed``."""
    path = request.path
    exact, starts = _prefixes()
    if path not in exact and not path.startswith(starts):
        return None
    if any(name not in PARAMS for name in request.GET):
        return None
    try:
        host = request.get_host()
    except Exception:  # DisallowedHost: Django answers it with its own 400
        return None
    items = sorted(request.GET.lists())
    query = urlencode([(k, v) for k, values in items for v in values])
    raw = f"{request.scheme}://{host}{path}?{query}"
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def _cacheable(request, response) -> bool:
    if request.method != "GET" or response.status_code != 200 or response.streaming:
        return False
    if response.cookies or not getattr(request, "agora_cookieless", False):
        return False
    match = getattr(request, "resolver_match", None)
    if match is None or match.view_name not in PAGE_NAMES:
        return False
    control = response.get("Cache-Control", "")
    if "private" in control or "no-store" in control or "no-cache" in control:
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    storage = getattr(request, "_messages", None)
    return not getattr(storage, "_queued_messages", None)


def _stored_headers(response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.items() if k.lower() not in UNSTORED and k != HEADER]


def _serve(request, entry: dict) -> HttpResponse:
    content = entry["content"]
    if entry["holes"]:
        filled = [(token, _renderer(path)(*args)) for token, path, args in entry["holes"]]
        content = _fill(content, filled)
    if entry["events"]:
        from personalization.events import replay

        replay(entry["events"])
    response = HttpResponse(b"" if request.method == "HEAD" else content, status=entry["status"])
    for name, value in entry["headers"]:
        response[name] = value
    response["Content-Length"] = str(len(content))
    response[HEADER] = "hit"
    return response


# --- the fast path: one Redis round trip per hit ---------------------------------------------

#: The fast path's entries (Redis hashes: ``v`` version, ``m`` pickled metadata, ``b`` body)
#: live beside the MGET path's pickled ones, so both can share a Redis (the A/B bench).
HASH_SUFFIX = ":h"
#: ``environ`` key: what the WSGI wrapper found for a request it did not serve (the middleware
#: then renders without asking Redis again).
LOOKED = "agora.pagecache.looked"

#: KEYS: version, page hash, then one key per write. ARGV: the version the caller's copy was
#: rendered under ("" for none), a version to create when there is none, its lifetime (s),
#: the number of writes, then per write: command, argument count, arguments. Returns {1} when
#: the caller's copy is current (the writes are made), else {0, version, v, m, b} (no write).
SCRIPT = """
local v = redis.call('GET', KEYS[1])
if not v then
  v = ARGV[2]
  redis.call('SET', KEYS[1], v, 'EX', ARGV[3])
end
if ARGV[1] ~= '' and v == ARGV[1] then
  local i = 5
  for w = 1, tonumber(ARGV[4]) do
    local n = tonumber(ARGV[i + 1])
    redis.call(ARGV[i], KEYS[2 + w], unpack(ARGV, i + 2, i + 1 + n))
    i = i + 2 + n
  end
  return {1}
end
local page = redis.call('HMGET', KEYS[2], 'v', 'm', 'b')
return {0, v, page[1], page[2], page[3]}
"""


SCRIPT_SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()  # noqa: S324 (Redis names scripts so)
#: The hit's own Redis connection in this process (``config.cache.OwnConnection``).
LINE = OwnConnection()


def _run_script(client, keys: list, args: list):
    """``SCRIPT`` by its SHA on this process's own connection; loaded first when the server
    does not know it (a restarted or flushed Redis). Raises ``REDIS_DOWN`` errors."""
    try:
        return LINE.call(client, "EVALSHA", SCRIPT_SHA, len(keys), *keys, *args)
    except NoScriptError:
        client.script_load(SCRIPT)
        return LINE.call(client, "EVALSHA", SCRIPT_SHA, len(keys), *keys, *args)


def _serializer():
    return cache._cache._serializer  # Django's RedisSerializer: how VERSION_KEY's value is kept


@dataclass
class _Site:
    """What a hit needs from the default cache, resolved once per cache backend instance (the
    backend's prefix and client do not change; ``override_settings(CACHES=...)`` makes a new
    backend, so a new ``_Site``)."""

    backend: object
    client: object
    version_key: str
    dumps: object  # Django's RedisSerializer.dumps: how VERSION_KEY's value is kept
    stream_key: str  # personalization.events.stream_key() under this backend

    def page_hash_key(self, key: str) -> str:
        """The Redis key of the fast path's hash for the page key ``key`` (prefixed)."""
        return self.backend.make_key(key) + HASH_SUFFIX


_SITE_ATTR = "_agora_pagecache_site"


#: This thread's ``_Site`` (Django keeps a cache backend per thread) with the settings
#: generation it was found under: a setting change (``override_settings(CACHES=...)`` in
#: tests) makes every thread look it up again. Saves the ``caches`` lookup per hit.
_this_thread = threading.local()
_generation = [0]


def _site() -> _Site | None:
    """The default cache's ``_Site``, or None when that cache is not Redis."""
    found = getattr(_this_thread, "site", None)
    if found is not None and found[0] == _generation[0]:
        return found[1]
    from personalization.events import STREAM_KEY

    backend = caches["default"]
    site = backend.__dict__.get(_SITE_ATTR)
    if site is None:
        client = raw_redis()
        if client is None:
            return None
        dumps = backend._cache._serializer.dumps
        version_key, stream_key = backend.make_key(VERSION_KEY), backend.make_key(STREAM_KEY)
        site = _Site(backend, client, version_key, dumps, stream_key)
        backend.__dict__[_SITE_ATTR] = site
    _this_thread.site = (_generation[0], site)
    return site


def _forget_site(**kwargs) -> None:
    _generation[0] += 1


setting_changed.connect(_forget_site, dispatch_uid="shop.pagecache.site")


#: Fresh values for a version the script creates when there is none: unique in this process
#: (a counter) and across processes (a random prefix, drawn again in a forked child), cheaper
#: than a uuid per hit. A value is never proposed twice, so a deleted version never comes back
#: (pages kept under it stay unserved).
_fresh = [os.urandom(6).hex(), itertools.count()]


def _fresh_reseed() -> None:
    _fresh[:] = [os.urandom(6).hex(), itertools.count()]


os.register_at_fork(after_in_child=_fresh_reseed)


def _fresh_version() -> str:
    """A version value never proposed before, by any process (see ``_fresh``)."""
    return f"{_fresh[0]}{next(_fresh[1]):x}"


@once
def _status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


@dataclass
class Copy:
    """A process's copy of a stored page: what a hit sends, with its holes and events."""

    token: bytes
    status: int
    headers: list  # (name, value) as the response left the outermost middleware
    parts: list  # bytes, and hole numbers where a hole's HTML goes
    holes: list  # (renderer dotted path, args)
    events: list  # (kind, product id or None, attributes)
    expires: float  # time.time() after which it is not served (the entry's Redis lifetime)
    size: int
    calls: list = field(default_factory=list)  # per hole: renderer(*args), prepared (_prepared)
    replay: object = None  # records ``events`` again (personalization.events.prepare_replay)

    @classmethod
    def build(cls, token: bytes, meta: dict, body: bytes) -> "Copy":
        from personalization.events import prepare_replay

        parts: list = [body]
        for number, (hole_token, _path, _args) in enumerate(meta["holes"]):
            head, sep, tail = parts[-1].partition(hole_token.encode())
            parts[-1:] = [head, number, tail] if sep else [head]
        holes = [(path, args) for _token, path, args in meta["holes"]]
        return cls(
            token=token,
            status=meta["status"],
            headers=meta["headers"],
            parts=parts,
            holes=holes,
            events=meta["events"],
            expires=meta["expires"],
            size=len(body),
            calls=[_prepared(path, args) for path, args in holes],
            replay=prepare_replay(meta["events"]),
        )

    def fill(self) -> bytes:
        """The body with every hole rendered now (each renderer called once per call)."""
        if not self.calls:
            return self.parts[0]
        html = [call().encode() for call in self.calls]
        return b"".join(part if isinstance(part, bytes) else html[part] for part in self.parts)

    def status_line(self) -> str:
        return _status_line(self.status)


class _Memo:
    """The pages this process served lately, least recently used out first, at most
    ``AGORA_PAGE_MEMO_BYTES`` of bodies. Thread-safe."""

    def __init__(self):
        self._copies: OrderedDict[str, Copy] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Copy | None:
        with self._lock:
            copy = self._copies.get(key)
            if copy is not None:
                self._copies.move_to_end(key)
            return copy

    def put(self, key: str, copy: Copy) -> None:
        limit = int(getattr(settings, "AGORA_PAGE_MEMO_BYTES", 32 * 1024 * 1024))
        with self._lock:
            old = self._copies.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            if copy.size > limit:
                return
            self._copies[key] = copy
            self._bytes += copy.size
            while self._bytes > limit:
                _key, dropped = self._copies.popitem(last=False)
                self._bytes -= dropped.size

    def clear(self) -> None:
        with self._lock:
            self._copies.clear()
            self._bytes = 0


MEMO = _Memo()


@dataclass
class Looked:
    """What the fast path found: ``kind`` "hit" (``copy`` and ``body`` to send), "miss" (render;
    ``token`` the current version as Redis holds it, or None when unknown) or "down"."""

    kind: str
    token: bytes | None = None
    copy: Copy | None = None
    body: bytes = b""

    def headers(self) -> list[tuple[str, str]]:
        return [*self.copy.headers, ("Content-Length", str(len(self.body))), (HEADER, "hit")]

    def response(self, request) -> HttpResponse:
        response = HttpResponse(
            b"" if request.method == "HEAD" else self.body, status=self.copy.status
        )
        for name, value in self.headers():
            response[name] = value
        return response


def _keys(key: str) -> tuple[str, str]:
    return cache.make_key(VERSION_KEY), cache.make_key(key) + HASH_SUFFIX


def _attempt(site: _Site, pkey: str, copy: Copy | None):
    """One round trip: a hit (``Looked``) when ``copy`` is current, else (version, v, m, b).
    ``pkey``: the page's hash key (``_Site.page_hash_key``)."""
    body, writes, later = b"", [], None
    if copy is not None:
        streamed = getattr(settings, "AGORA_EVENT_STREAM", False)  # stream_client(): Redis here
        with deferred_redis_writes() as writes:
            body = copy.fill()
            if copy.events and streamed:
                copy.replay(site.stream_key)
        if copy.events and not streamed:
            later = copy.events  # inserted one by one, as record_streamed does: after the check
    keys = [site.version_key, pkey]
    args = [copy.token if copy is not None else b""]
    args += [site.dumps(_fresh_version()), VERSION_TIMEOUT, len(writes)]
    for command, wkey, wargs in writes:
        keys.append(wkey)
        args += [command, len(wargs), *wargs]
    found = _run_script(site.client, keys, args)
    if found[0] == 1:
        if later:
            from personalization.events import replay

            replay(later)
        return Looked("hit", token=copy.token, copy=copy, body=body)
    return found[1:]


def lookup(path: str, key: str) -> Looked:
    """Serve the request for ``path`` (whose ``page_key`` is ``key``) from the cache if it can:
    one Redis round trip when this process holds a current copy, two when it takes the stored
    entry first. Returns a ``Looked``; "down" when Redis did not answer (nothing was written
    then) or the default cache is not Redis."""
    site = _site()
    if site is None:
        return Looked("down")
    pkey = site.page_hash_key(key)
    copy = MEMO.get(pkey)
    if copy is not None and copy.expires <= time.time():
        copy = None
    try:
        found = _attempt(site, pkey, copy)
        if isinstance(found, Looked):
            return found
        token, stored_version, meta, body = found
        if stored_version != token or meta is None or body is None:
            return Looked("miss", token=token)
        meta = pickle.loads(meta)  # noqa: S301 (our own entry, written by _store below)
        if meta["expires"] <= time.time():
            return Looked("miss", token=token)
        copy = Copy.build(token, meta, body)
        MEMO.put(pkey, copy)
        found = _attempt(site, pkey, copy)
        return found if isinstance(found, Looked) else Looked("miss", token=found[0])
    except REDIS_DOWN:
        logger.warning("page cache: Redis unavailable; rendering %s", path)
        return Looked("down")


def _store(client, key: str, state: PageState, response, content: bytes) -> None:
    """Keep ``response`` (its body ``content`` with the placeholders) for ``timeout()`` s."""
    meta = {
        "status": response.status_code,
        "headers": _stored_headers(response),
        "holes": [(token, path, args) for token, path, args, _html in state.holes],
        "events": list(state.events),
        "expires": time.time() + timeout(),
    }
    site = _site()
    pkey = site.page_hash_key(key) if site is not None else _keys(key)[1]
    try:
        pipe = client.pipeline(transaction=True)
        pipe.hset(pkey, mapping={"v": state.token, "m": pickle.dumps(meta), "b": content})
        pipe.expire(pkey, timeout())
        pipe.execute()
    except REDIS_DOWN:
        logger.warning("page cache: Redis unavailable; %s not kept", key)
        return
    MEMO.put(pkey, Copy.build(state.token, meta, content))


class AnonymousPageCacheMiddleware:
    """Serves and stores the whole-page cache (see the module). With the fast path it is the
    first middleware; without it, after WhiteNoise and before the session middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = page_key(request)
        if key is None:
            return self.get_response(request)
        client = raw_redis() if fast() else None
        if client is None:
            return self._mget_path(request, key)
        looked = request.META.pop(LOOKED, None)  # the WSGI wrapper looked already
        if looked is None:
            try:
                looked = lookup(request.path, key)
            except Exception:  # a hole that failed: render the page as if nothing was cached
                logger.exception("cached page %s could not be served", request.path)
                looked = Looked("miss")
        if looked.kind == "hit":
            return looked.response(request)
        if looked.kind == "down":
            return self.get_response(request)
        token = looked.token
        if token is None:
            try:
                token = client.get(_keys(key)[0])
            except REDIS_DOWN:
                return self.get_response(request)
            if token is None:
                return self.get_response(request)
        state = PageState(version=_serializer().loads(token), token=token)
        response, raw = self._render(request, state)
        if raw is not None and _cacheable(request, response):
            _store(client, key, state, response, raw)
            response[HEADER] = "miss"
        return response

    def _render(self, request, state: PageState):
        """The response, with its holes filled, and its body with the placeholders (None when
        streaming)."""
        setattr(request, STATE, state)
        setattr(request, REPLAY, state.events)
        response = self.get_response(request)
        if response.streaming:
            return response, None
        raw = response.content  # the stored copy keeps the placeholders
        if state.holes:
            response.content = _fill(raw, [(t, html) for t, _, _, html in state.holes])
            if response.has_header("Content-Length"):  # CommonMiddleware measured the raw body
                response["Content-Length"] = str(len(response.content))
        return response, raw

    def _mget_path(self, request, key: str):
        """The previous design: version and pickled entry in one MGET, records one by one."""
        found = cache.get_many([VERSION_KEY, key])
        version, entry = found.get(VERSION_KEY), found.get(key)
        if entry is not None and version is not None and entry.get("version") == version:
            try:
                return _serve(request, entry)
            except Exception:  # a hole that failed: render the page as if nothing was cached
                logger.exception("cached page %s could not be served", request.path)
        if version is None:
            version = _version_create()
        state = PageState(version=version)
        response, raw = self._render(request, state)
        if raw is not None and version is not None and _cacheable(request, response):
            cache.set(key, self._entry(state, response, raw), timeout())
            response[HEADER] = "miss"
        return response

    @staticmethod
    def _entry(state: PageState, response, content: bytes) -> dict:
        return {
            "version": state.version,
            "status": response.status_code,
            "headers": _stored_headers(response),
            "content": content,
            "holes": [(token, path, args) for token, path, args, _html in state.holes],
            "events": list(state.events),
        }


class _Addresses:
    """The page keys of the addresses this process was asked for lately: ``get(environ)`` is
    ``page_key(WSGIRequest(environ))`` with the script prefix, without building the request
    (issue 15: ~25 µs of a hit). A key depends only on the environ values in ``FIELDS`` and on
    settings (``ALLOWED_HOSTS``, the proxy headers, ``FORCE_SCRIPT_NAME`` ...), so it is kept
    per those values, at most ``LIMIT`` addresses (then forgotten all at once), and forgotten
    whenever a setting changes (``setting_changed``, tests). Thread-safe (dict operations)."""

    FIELDS = (
        "PATH_INFO",
        "QUERY_STRING",
        "SCRIPT_NAME",
        "SCRIPT_URL",
        "REDIRECT_URL",
        "HTTP_HOST",
        "HTTP_X_FORWARDED_HOST",
        "HTTP_X_FORWARDED_PORT",
        "HTTP_X_FORWARDED_PROTO",
        "SERVER_NAME",
        "SERVER_PORT",
        "wsgi.url_scheme",
    )
    LIMIT = 4096

    def __init__(self):
        self._known: dict = {}
        self._fields = self.FIELDS

    def get(self, environ) -> tuple[str, str] | None:
        """(script prefix, page key) for a GET or HEAD without cookie, authorization or htmx
        header (the caller checks those), or None when the address uses no cache."""
        address = tuple(map(environ.get, self._fields))  # no generator frame per field
        found = self._known.get(address, self)
        if found is self:
            found = self._work_out(environ)
            if len(self._known) >= self.LIMIT:
                self._known.clear()
            self._known[address] = found
        return found

    def _work_out(self, environ) -> tuple[str, str] | None:
        prefix = get_script_name(environ)
        request = WSGIRequest(environ)
        key = page_key(request)
        return None if key is None else (prefix, key)

    def forget(self, **kwargs) -> None:
        """Forget every address (a ``setting_changed`` receiver); the fields read from now
        on include the header ``SECURE_PROXY_SSL_HEADER`` names, if any."""
        proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
        fields = self.FIELDS
        if proxy and proxy[0] not in fields:
            fields = (*fields, proxy[0])
        self._fields = fields
        self._known = {}


_ADDRESSES = _Addresses()
_ADDRESSES.forget()
setting_changed.connect(_ADDRESSES.forget, dispatch_uid="shop.pagecache.addresses")


class PageCacheApplication:
    """WSGI wrapper of Django's application: answers a whole-page cache hit before Django's
    handler, its signals and its middlewares run (see the module); everything else, including
    a request whose Host ``ALLOWED_HOSTS`` refuses, goes to ``application`` unchanged.

    A hit runs no ``request_started``/``request_finished`` signal: it uses no database
    connection (with the event stream off, its events are inserted in autocommit, as a
    rendered page's are)."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if (
            environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and not environ.get("HTTP_COOKIE")
            and not environ.get("HTTP_AUTHORIZATION")
            and enabled()
            and fast()
        ):
            looked = self._look(environ)
            if looked is not None and looked.kind == "hit":
                method = environ["REQUEST_METHOD"]
                start_response(looked.copy.status_line(), looked.headers())
                return [b"" if method == "HEAD" else looked.body]
        return self.application(environ, start_response)

    @staticmethod
    def _look(environ) -> Looked | None:
        # cheap first: only the store pages' paths (under a SCRIPT_NAME, PATH_INFO never
        # matches these prefixes, which include it: the middleware serves those)
        path, (exact, starts) = environ.get("PATH_INFO", ""), _prefixes()
        if path not in exact and not path.startswith(starts):
            return None
        if _site() is None or environ.get("HTTP_HX_REQUEST"):
            return None
        try:
            found = _ADDRESSES.get(environ)
            if found is None:
                return None
            prefix, key = found
            set_script_prefix(prefix)
            looked = lookup(path, key)
        except Exception:  # never worse than Django: it renders the page (or its own error)
            logger.exception("page cache: lookup failed for %s", environ.get("PATH_INFO"))
            return None
        if looked.kind != "hit":
            environ[LOOKED] = looked
        return looked
