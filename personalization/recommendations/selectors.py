"""Read side of the recommendations: what a page shows, from the cache once warm.

Cached values (Redis in production):
- ``rec:user:<id>``: the shopper's ``PickList`` (their latest decision, as cards). Forgotten when
  their profile is rebuilt or they change a personalization choice (``picks_cache_keys`` is
  registered with ``personalization.selectors.register_shopper_cache``), else after
  RECOMMENDATIONS_CACHE_SECONDS.
- ``rec:popular``: the popular list every anonymous visitor and every shopper with
  personalization off sees (shared, holds nothing personal).
- ``rec:popular:c:<category id>``: the same on a product page of that category: its own
  popular products first (``popular_picks_near``; shared).
- ``rec:also:<product id>``: "Customers who bought this also bought" (shared).
The shared values are forgotten by each refresh of the recommendation tables, else expire after
RECOMMENDATIONS_SHARED_CACHE_SECONDS. A warm page reads one or two cache keys and runs no query.
"""

import contextlib
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache

from config.aftercommit import after_commit, cache_fill
from config.cache import REDIS_DOWN, cache_forget, cache_hset_unless_leased
from personalization.selectors import profile_for

from . import conf
from .backends import Pick, _available, get_backend
from .models import PickDecision, ProductPair

USER_KEY = "rec:user:{}"
POPULAR_KEY = "rec:popular"
POPULAR_NEAR_KEY = "rec:popular:c:{}"
ALSO_KEY = "rec:also:{}"
ALSO_LIMIT = 8


@dataclass(frozen=True)
class PickCard:
    """What a pick card shows; built once on the cold path, so a warm page needs no query."""

    product_id: int
    name: str
    url: str
    brand: str
    price: Decimal
    image_url: str
    image_alt: str
    reason: str
    text: str


@dataclass(frozen=True)
class PickList:
    """``mode``: personal (from the profile), popular (a shopper with no profile yet), off
    (personalization turned off: popular only, labelled so), anonymous (popular)."""

    mode: str
    cards: tuple[PickCard, ...]
    decision_id: int | None = None

    @property
    def personalized(self) -> bool:
        return self.mode == "personal"

    def without(self, product_ids, limit: int) -> list[PickCard]:
        skip = set(product_ids)
        return [card for card in self.cards if card.product_id not in skip][:limit]


def _cards(picks: list[Pick]) -> tuple[PickCard, ...]:
    """Cards for ``picks`` in order (two queries: products with brand, first images)."""
    from django.db.models import Prefetch

    from shop.models import Product, ProductImage

    ids = [pick.product_id for pick in picks]
    products = {
        p.pk: p
        for p in Product.objects.filter(pk__in=ids)
        .select_related("brand")
        .prefetch_related(
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "pk"))
        )
    }
    cards = []
    for pick in picks:
        product = products.get(pick.product_id)
        if product is None:
            continue
        image = product.primary_image
        cards.append(
            PickCard(
                product_id=product.pk,
                name=product.name,
                url=product.get_absolute_url(),
                brand=product.brand.name,
                price=product.price,
                image_url=image.image.url if image else "",
                image_alt=(image.alt if image else "") or product.name,
                reason=pick.reason,
                text=pick.text,
            )
        )
    return tuple(cards)


def cards_for(product_ids) -> tuple[PickCard, ...]:
    """Cards for ``product_ids`` in that order, as the pages show them (name, URL path, brand,
    price, first image), with no reason; ids that no longer exist are left out. Two queries;
    visibility is the caller's to check."""
    return _cards([Pick(pk, "", "") for pk in product_ids])


def popular_picks() -> PickList:
    """The shared popular list (anonymous visitors, personalization off): cached."""
    cached = cache.get(POPULAR_KEY)
    if cached is None:
        limit = int(conf.get("RECOMMENDATIONS_PICKS"))
        cached = PickList("anonymous", _cards(get_backend().popular(limit=limit)))
        cache_forget([FRAGMENT_KEY.format("anon")])  # fragments of an older list
        cache_fill(POPULAR_KEY, cached, conf.get("RECOMMENDATIONS_SHARED_CACHE_SECONDS"))
    return cached


def popular_picks_near(category_id: int, parent_id: int | None) -> PickList:
    """The popular list for a product page of the category ``category_id`` (whose parent is
    ``parent_id``): the category's popular products first, then its parent's family's, then
    the store's (``Recommender.popular_near``). Shared and cached per category like
    ``popular_picks``, forgotten with it."""
    key = POPULAR_NEAR_KEY.format(category_id)
    cached = cache.get(key)
    if cached is None:
        limit = int(conf.get("RECOMMENDATIONS_PICKS"))
        picks = get_backend().popular_near(
            category_id=category_id, parent_id=parent_id, limit=limit
        )
        cached = PickList("anonymous", _cards(picks))
        cache_fill(key, cached, conf.get("RECOMMENDATIONS_SHARED_CACHE_SECONDS"))
    return cached


def picks_for(user) -> PickList:
    """The picks for ``user`` (anyone, signed in or not), from the cache once warm.

    Anonymous: the popular list. Personalization off: the popular list with mode ``off`` and
    no decision stored. Otherwise the configured recommender decides, the decision is stored as
    a ``PickDecision`` row (reasons included) and cached; warm reads run no query.

    Inside a transaction (an outreach send) the fresh list is returned but cached only once the
    transaction commits (``config.aftercommit``): if it rolls back, so does the decision row,
    and no cached list points at it.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return popular_picks()
    key = USER_KEY.format(user.pk)
    cached = cache.get(key)
    if cached is not None:
        return cached
    result = decide_picks(user=user)
    cache_forget([FRAGMENT_KEY.format(user.pk)])  # fragments of an older decision
    cache_fill(key, result, conf.get("RECOMMENDATIONS_CACHE_SECONDS"))
    return result


def decide_picks(*, user) -> PickList:
    """Choose the shopper's picks now and store the decision (uncached; see ``picks_for``)."""
    from personalization.selectors import personalization_enabled

    from .services import pick_decision_record

    if not personalization_enabled(user=user):
        shared = popular_picks()
        return PickList("off", shared.cards)
    backend = get_backend()
    limit = int(conf.get("RECOMMENDATIONS_PICKS"))
    chosen = backend.picks_for(user_id=user.pk, profile=profile_for(user), limit=limit)
    mode = "personal" if chosen.personalized else "popular"
    decision = pick_decision_record(
        user_id=user.pk,
        mode=mode,
        strategy=f"{type(backend).__module__}.{type(backend).__qualname__}",
        picks=[pick.as_dict() for pick in chosen.picks],
        data_used=chosen.data_used,
    )
    return PickList(mode, _cards(chosen.picks), decision.pk)


def also_bought(product_id: int) -> tuple[PickCard, ...]:
    """ "Customers who bought this also bought": shared, cached per product."""
    key = ALSO_KEY.format(product_id)
    cached = cache.get(key)
    if cached is None:
        pairs = list(
            ProductPair.objects.filter(product_id=product_id, co_purchases__gt=0)
            .order_by("-co_purchases", "-score", "other_id")
            .values_list("other_id", "co_purchases")[: ALSO_LIMIT * 2]
        )
        available = _available(pk for pk, _ in pairs)
        picks = [
            Pick(
                pk,
                "also_bought",
                f"Bought by {n} shopper{'s' if n != 1 else ''} who bought this",
                because=product_id,
            )
            for pk, n in pairs
            if pk in available
        ][:ALSO_LIMIT]
        cached = _cards(picks)
        cache_fill(key, cached, conf.get("RECOMMENDATIONS_SHARED_CACHE_SECONDS"))
    return cached


FRAGMENT_KEY = "rec:html:{}"  # one hash per shopper ("anon": every anonymous visitor)


def _fragment_store():
    """(raw Redis client, full key for a cache key) or (None, None) off Redis."""
    from config.cache import raw_redis

    client = raw_redis()
    if client is None:
        return None, None
    prefix, _, suffix = cache.make_key("\x00").partition("\x00")
    return client, lambda key: f"{prefix}{key}{suffix}"


def picks_fragment(
    user,
    *,
    product_id: int | None = None,
    limit: int = 8,
    skip=(),
    category_id: int | None = None,
    parent_id: int | None = None,
) -> str:
    """The rendered "Picked for you" fragment for ``user`` (HTML, safe to insert).

    Once warm this is one cache read (Redis HGET on the shopper's fragment hash, field = the
    variant: product page, limit, cards skipped), no query and no rendering. The hash is
    forgotten with the shopper's picks (``picks_cache_keys``, with the profile), and the
    anonymous one with the popular list (``shared_cache_forget``), so a fragment never shows
    other picks than the stored decision; one shopper's hash is never another's (the user id
    is its key). Off Redis (the embedded demo) the hash is a dict in one cache entry. Inside
    a transaction the fragment is stored only once it commits (``config.aftercommit``).

    ``category_id`` (a product page's category, ``parent_id`` its parent): unless the picks
    are personal (those stay as decided), the page shows that category's popular list
    (``popular_picks_near``: shared, the same for everyone, nothing personal in it) instead
    of the store's.
    """
    from django.template.loader import render_to_string

    signed_in = bool(user is not None and getattr(user, "is_authenticated", False))
    exclude = sorted({int(pk) for pk in skip} | ({product_id} if product_id else set()))
    variant = f"{limit}:{','.join(map(str, exclude))}"
    if category_id is not None:
        variant += f":c{category_id}"
    key = FRAGMENT_KEY.format(user.pk if signed_in else "anon")
    cache_down = False
    client, full = _fragment_store()
    if client is not None:
        try:
            html = client.hget(full(key), variant)
        except REDIS_DOWN:  # the cache fails open (issue 16): render as on a miss, store nothing
            html, client = None, None
            cache_down = True
        if html is not None:
            return html.decode()
    else:
        html = (cache.get(key) or {}).get(variant)
        if html is not None:
            return html
    picks = picks_for(user)  # a new decision forgets the hash first (see picks_for)
    near = category_id is not None and not picks.personalized
    if near:
        cards = popular_picks_near(category_id, parent_id).without(exclude, limit)
    else:
        cards = picks.without(exclude, limit)
    html = render_to_string(
        "recommendations/_picks.html",
        {"picks": picks, "cards": cards, "signed_in": signed_in, "near": near},
    )
    ttl = conf.get(
        "RECOMMENDATIONS_CACHE_SECONDS" if signed_in else "RECOMMENDATIONS_SHARED_CACHE_SECONDS"
    )
    if client is not None:

        def store():
            # not while a forget of the hash holds its lease (config.cache): these picks may
            # have been read before the decision that forgot it
            with contextlib.suppress(REDIS_DOWN):  # fails open: the next page renders it again
                cache_hset_unless_leased(key, variant, html.encode(), int(ttl))

        after_commit(store)  # inside a transaction: once the picks it shows are committed
    elif not cache_down:
        after_commit(lambda: cache.set(key, {**(cache.get(key) or {}), variant: html}, ttl))
    return html


def picks_cache_keys(user_ids) -> list[str]:
    """The cache keys of the picks of ``user_ids`` and of their fragments: forgotten with their
    profiles (``personalization.selectors.register_shopper_cache``), so their next page decides
    again."""
    return [key for pk in user_ids for key in (USER_KEY.format(pk), FRAGMENT_KEY.format(pk))]


def shared_cache_forget() -> None:
    """Forget the shared popular lists (the store's and each category's); "also bought"
    entries expire on their own (short TTL)."""
    from shop.models import Category
    from shop.pagecache import storefront_changed

    near = [POPULAR_NEAR_KEY.format(pk) for pk in Category.objects.values_list("pk", flat=True)]
    cache_forget([POPULAR_KEY, FRAGMENT_KEY.format("anon"), *near])
    storefront_changed()  # anonymous picks show on cached store pages


def latest_decision(*, user) -> PickDecision | None:
    return PickDecision.objects.filter(user=user).first()


def decision_products(decision: PickDecision) -> dict[int, str]:
    """Names of the products a decision mentions (picks and the products behind them)."""
    from shop.models import Product

    ids = {p["product"] for p in decision.picks} | {
        p["because"] for p in decision.picks if p.get("because")
    }
    return dict(Product.objects.filter(pk__in=ids).values_list("pk", "name"))
