"""Fragment cache for the parts of store pages that every visitor shares (issue 15).

Rendering 24 product cards was most of a product list's time, so each card's shared body
(picture, brand, name, price, rating, stock flag) is rendered once and kept in the cache
(Redis in production). A fragment's key is made of versions, so invalidation is exact and the
timeout is only a safety net:

- the catalogue version, kept in the cache and bumped by ``shop.services.catalogue_changed``
  (category, brand or variant edits, reindexing): every fragment changes key at once;
- the product's own version: the values the card shows, read in the same query (and so the
  same snapshot) as the product itself: ``updated_at`` (bumped by every save of the product),
  price, rating average and count (written by ``social.reviews.services``), the stock flag
  (moved by checkout, cancellations and stock edits), the picture and the brand's name.
  A version kept apart in the cache could be read after the data and pair an old card with a
  new version; a version read with the data cannot.

Per-visitor parts (banners, cart count) are never in a shared fragment. A card's like button
and social proof are cached under everything they show (``card_social_html``): for visitors
without cookies by the like count, for everyone else by their own state (count, own like,
followed likers shown), with the request's CSRF token set in per request.
"""

import hashlib
from functools import cache as once
from uuid import uuid4

from django.core.cache import cache
from django.template.loader import get_template, render_to_string

from config.aftercommit import cache_fill, cache_fill_many

from .lazy import visitor_is_cookieless

CATALOGUE_VERSION_KEY = "shop:v:catalogue"
CARD_KEY = "shop:card:{catalogue}:{pk}:{digest}"
CARD_TEMPLATE = "shop/_product_card_body.html"
SOCIAL_KEY = "shop:card-social:{catalogue}:{pk}:{count}:{page}"
SOCIAL_TEMPLATE = "engagement/_card_social.html"
CARD_TIMEOUT = 6 * 3600  # safety net only: keys change when the data does
VERSION_TIMEOUT = 30 * 24 * 3600
MEMO = "_agora_card_html"
VERSION_MEMO = "_agora_catalogue_version"


@once
def _templates_version() -> str:
    """A digest of the fragment templates' source: a deployment that changes them changes
    every key (read once per process)."""
    sources = [get_template(name).template.source for name in (CARD_TEMPLATE, SOCIAL_TEMPLATE)]
    return hashlib.blake2b("\0".join(sources).encode(), digest_size=4).hexdigest()


def catalogue_version() -> str:
    """The catalogue's current version token (created on first use; never reused), joined with
    the fragment templates' digest."""
    version = cache.get(CATALOGUE_VERSION_KEY)
    if version is None:
        cache.add(CATALOGUE_VERSION_KEY, uuid4().hex[:12], VERSION_TIMEOUT)
        version = cache.get(CATALOGUE_VERSION_KEY) or "none"
    return f"{version}.{_templates_version()}"


def catalogue_version_bump() -> None:
    """Give the catalogue a new version: every shared fragment is rendered again."""
    cache.set(CATALOGUE_VERSION_KEY, uuid4().hex[:12], VERSION_TIMEOUT)


def _version_for(request) -> str:
    """``catalogue_version()`` read once per request."""
    if request is None:
        return catalogue_version()
    version = getattr(request, VERSION_MEMO, None)
    if version is None:
        version = catalogue_version()
        setattr(request, VERSION_MEMO, version)
    return version


def product_version(product) -> str:
    """A short digest of what the product's card shows, from the loaded row (see module)."""
    image = product.primary_image
    brand = product.brand.name if product.brand_id else ""
    shown = (
        product.updated_at.isoformat() if product.updated_at else "",
        product.name,
        product.slug,
        str(product.price),
        str(product.rating_avg),
        product.rating_count,
        getattr(product, "in_stock", None),
        (image.pk, image.image.name, image.alt) if image else None,
        brand,
    )
    return hashlib.blake2b(repr(shown).encode(), digest_size=8).hexdigest()


def _card_key(catalogue: str, product) -> str:
    return CARD_KEY.format(catalogue=catalogue, pk=product.pk, digest=product_version(product))


def cards_html(request, products) -> dict[int, str]:
    """The card bodies of ``products`` as HTML, by product id: one cache read for all of them,
    the missing ones rendered and written back in one go. Memoised on ``request``."""
    memo = getattr(request, MEMO, None) if request is not None else None
    if memo is None:
        memo = {}
        if request is not None:
            setattr(request, MEMO, memo)
    todo = [p for p in products if p.pk not in memo]
    if not todo:
        return memo
    catalogue = _version_for(request)
    keys = {_card_key(catalogue, p): p for p in todo}
    found = cache.get_many(list(keys))
    missing = {}
    for key, product in keys.items():
        html = found.get(key)
        if html is None:
            html = render_to_string(CARD_TEMPLATE, {"product": product})
            missing[key] = html
        memo[product.pk] = html
    if missing:
        cache_fill_many(missing, CARD_TIMEOUT)
    return memo


SHOPPER_SOCIAL_KEY = "shop:card-social-s:{catalogue}:{pk}:{state}"
SHOPPER_SOCIAL_MEMO = "_agora_card_social_html"
CSRF_SENTINEL = "agora-csrf-9d3f1c7e5b"  # replaced by the request's own token, never stored


def _shopper_state(summary, page: str, signed_in: bool) -> str:
    """A digest of everything the card's like button and social proof show a shopper: the
    count, their own like, the followed likers shown and their total, signed in or not, the
    page the form returns to and the count threshold. Two shoppers with the same state see the
    same bytes (save the CSRF token, which is put in per request)."""
    from social.engagement import app_settings

    state = (
        summary.count,
        summary.liked,
        tuple((p.name, p.url) for p in summary.followed),
        summary.followed_total,
        signed_in,
        page,
        app_settings.social_proof_min_likes(),
    )
    return hashlib.blake2b(repr(state).encode(), digest_size=12).hexdigest()


def _shopper_card_social(context, request, product, template) -> str:
    """The card's like button and social proof for a shopper with cookies or signed in, from
    a cache keyed by what they show (``_shopper_state``), so nothing of one shopper reaches
    another who would see different bytes; the CSRF token is set in per request. The first
    card of a request reads every card whose like summary the request has loaded, in one
    ``MGET``."""
    from social.engagement.selectors import REQUEST_MEMO, like_summary_for_request

    user = context.get("user")
    signed_in = bool(user is not None and user.is_authenticated)
    page = context.get("like_next") or request.get_full_path()
    catalogue = _version_for(request)
    memo = getattr(request, SHOPPER_SOCIAL_MEMO, None)
    if memo is None:  # one read for every card the page has like summaries for
        summaries = getattr(request, REQUEST_MEMO, None) or {}
        product_type = _likeable_type(product)
        keys = [
            SHOPPER_SOCIAL_KEY.format(
                catalogue=catalogue, pk=pk, state=_shopper_state(s, page, signed_in)
            )
            for (ct, pk), s in summaries.items()
            if ct == product_type
        ]
        found = cache.get_many(keys) if keys else {}
        memo = {key: found.get(key) for key in keys}  # None: read, not in the cache
        setattr(request, SHOPPER_SOCIAL_MEMO, memo)
    summary = like_summary_for_request(request, product)
    key = SHOPPER_SOCIAL_KEY.format(
        catalogue=catalogue, pk=product.pk, state=_shopper_state(summary, page, signed_in)
    )
    html = memo[key] if key in memo else cache.get(key)
    if html is None:
        with context.push(csrf_token=CSRF_SENTINEL):
            html = template.render(context)
        cache_fill(key, html, CARD_TIMEOUT)
        memo[key] = html
    token = context.get("csrf_token")
    return html.replace(CSRF_SENTINEL, str(token) if token else "")


def _likeable_type(product) -> int | None:
    from social.engagement.selectors import summary_key

    key = summary_key(product)
    return key[0] if key else None


def card_social_html(context, product) -> str:
    """The like button under a card. For a visitor with no cookie (``shop.lazy``) it is the
    same for everyone on the page, so it is cached, keyed by the catalogue version, the product,
    its like count (from the request's batch of like summaries) and the page it returns to;
    everyone else gets it from a cache keyed by what it shows them (``_shopper_card_social``:
    their own like, the followed likers shown), with their own CSRF token set in."""
    template = get_template(SOCIAL_TEMPLATE).template
    request = context.get("request")
    if request is None:
        return template.render(context)
    if not visitor_is_cookieless(request):
        return _shopper_card_social(context, request, product, template)
    from social.engagement.selectors import like_summary_for_request

    summary = like_summary_for_request(request, product)
    page = context.get("like_next") or request.get_full_path()
    key = SOCIAL_KEY.format(
        catalogue=_version_for(request),
        pk=product.pk,
        count=summary.count,
        page=hashlib.blake2b(page.encode(), digest_size=8).hexdigest(),
    )
    html = cache.get(key)
    if html is None:
        html = template.render(context)
        cache_fill(key, html, CARD_TIMEOUT)
    return html
