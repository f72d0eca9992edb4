"""Whole-page cache for anonymous visitors without cookies (issue 15).

A visitor with no cookie at all and no ``Authorization`` header sees the store's pages (home,
product list, category, search, product page) exactly as every other such visitor does
(``shop.lazy``: no session, no CSRF token, no messages), so the page's bytes are kept in the
cache (Redis in production) and served to the next one at the cost of one cache round trip,
before sessions, CSRF, authentication and the view run.

What keeps it right:

- **One storefront version.** Every entry carries the version it was rendered under, read
  before rendering; a hit needs the entry's version to equal the current one, and both are read
  in one ``MGET``. ``storefront_changed()`` gives the storefront a new version: the services
  that change what these pages show call it (stock moved by checkout and order cancellations,
  ratings, verified-buyer marks, helpful counts, banners, the popular picks, catalogue edits),
  and a ``post_save``/``post_delete`` receiver on the models these pages show covers admin edits
  and every ``save()`` (see ``connect_receivers``). It bumps at once and again after the
  transaction commits, so a page rendered from data read before the commit is never kept under
  the new version. The timeout (``AGORA_PAGE_CACHE_SECONDS``, 300 s) is only a safety net.
- **Only shareable responses are kept:** a GET of a page marked ``cookieless_for_visitors``
  and named in ``PAGE_NAMES``, status 200, no Set-Cookie, no ``Cache-Control: private`` or
  ``no-store``, no queued message, an anonymous user; query parameters limited to the product
  filters' (others, htmx requests and any cookie bypass the cache). The key is the scheme, the
  host, the path and the parameters sorted by name.
- **Per-view parts stay per view (holes).** A part that must differ per view even for cookieless
  visitors (the banner: a decision row with its own id and an A/B variant drawn per view) is
  stored as a placeholder and rendered again on every hit (``hole``). View and search events
  recorded by the page are recorded again on every hit (``personalization.events.replay``).
- **Fails open:** if the cache does not answer the page is rendered as usual.

Headers added by the middlewares outside this one (security, Permissions-Policy, CSP: fixed,
no per-response nonce) are added again on every hit; the stored headers are the page's own.
"""

import hashlib
import logging
from dataclasses import dataclass, field
from functools import cache as once
from urllib.parse import urlencode
from uuid import uuid4

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse
from django.utils.module_loading import import_string

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


def hole(request, renderer: str, args: tuple, html: str) -> str:
    """``html`` for this response; in a page that may be cached, a placeholder that the cache
    fills with ``renderer(*args)`` (a dotted path to a function returning HTML) on every hit,
    and with ``html`` for this response. ``args`` must be picklable."""
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
    return PAGE_KEY.format(hashlib.blake2b(raw.encode(), digest_size=16).hexdigest())


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


class AnonymousPageCacheMiddleware:
    """Serves and stores the whole-page cache (see the module). Place it after WhiteNoise and
    before the session middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = page_key(request)
        if key is None:
            return self.get_response(request)
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
        setattr(request, STATE, state)
        setattr(request, REPLAY, state.events)
        response = self.get_response(request)
        if response.streaming:
            return response
        raw = response.content  # the stored copy keeps the placeholders
        if state.holes:
            response.content = _fill(raw, [(t, html) for t, _, _, html in state.holes])
            if response.has_header("Content-Length"):  # CommonMiddleware measured the raw body
                response["Content-Length"] = str(len(response.content))
        if version is not None and _cacheable(request, response):
            cache.set(key, self._entry(state, response, raw), timeout())
            response[HEADER] = "miss"
        return response

    @staticmethod
    def _entry(state: PageState, response, content: bytes) -> dict:
        return {
            "version": state.version,
            "status": response.status_code,
            "headers": [(k, v) for k, v in response.items() if k.lower() not in UNSTORED],
            "content": content,
            "holes": [(token, path, args) for token, path, args, _html in state.holes],
            "events": list(state.events),
        }
