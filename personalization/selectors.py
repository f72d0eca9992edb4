"""Reading preference profiles. ``profile_for(user)`` is what pages use: one cache read."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from config.aftercommit import cache_fill, forget_keys

from .building import DIMENSIONS, decay_factor
from .models import PreferenceProfile, ProfileBuildRun, RemovedInterest, ShopperChoice

CACHE_KEY = "pz:profile:{}"
_NO_PROFILE = "none"

DIMENSION_LABELS = {
    "category": "Categories",
    "brand": "Brands",
    "colour": "Colours",
    "size": "Sizes",
    "style": "Styles",
    "price_band": "Price ranges",
    "interest": "From your social profile",
}


@dataclass(frozen=True)
class Interest:
    dimension: str
    value: str
    label: str
    score: float  # decayed affinity; 0 < share <= 1 is ``score / top score of the dimension``
    share: float = 1.0


@dataclass(frozen=True)
class Intent:
    intent: str
    category_id: int | None
    expires_at: datetime
    category_label: str = ""  # the category's name, so two intents of one kind tell apart


@dataclass(frozen=True)
class Profile:
    """A shopper's profile as pages and tasks see it (removed interests never appear)."""

    user_id: int
    interests: dict[str, list[Interest]]
    event_count: int
    recency_days: int | None
    frequency: int
    monetary: float
    average_order_value: float
    lifetime_value: float
    average_sentiment: float | None
    intents: list[Intent]
    demographics: dict = field(default_factory=dict)
    built_at: datetime | None = None

    def top(self, dimension: str, n: int = 3) -> list[str]:
        """The ``n`` strongest values of a dimension (ids as strings for category and brand)."""
        return [item.value for item in self.interests.get(dimension, [])[:n]]


def profile_for(user) -> Profile | None:
    """The shopper's profile for a page, or None (anonymous, personalization off, no data).

    Cached per shopper; builds and the shopper's own choices invalidate the entry.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    key = CACHE_KEY.format(user.pk)
    cached = cache.get(key)
    if cached is not None:
        return None if cached == _NO_PROFILE else cached
    profile = load_profile(user_id=user.pk)
    timeout = settings.PERSONALIZATION_PROFILE_CACHE_SECONDS
    cache_fill(key, _NO_PROFILE if profile is None else profile, timeout)
    return profile


_CACHE_KEY_HOOKS: list = []


def register_shopper_cache(keys) -> None:
    """Register ``keys(user_ids) -> iterable of cache keys``: what a feature caches per shopper
    from data the profile feeds (recommendations, the signed-in page versions). Whenever cached
    profiles are forgotten (builds, a shopper's choices, erasure) those keys are forgotten in
    the same Redis call. Call it from ``AppConfig.ready()``."""
    if keys not in _CACHE_KEY_HOOKS:
        _CACHE_KEY_HOOKS.append(keys)


def profile_cache_forget(*, user_ids) -> None:
    """Forget the cached profiles of ``user_ids`` and the keys every ``register_shopper_cache``
    hook names for them, each with a lease (``config.cache.cache_forget``): one Redis call per
    5,000 keys for all of them, not one set of calls per feature (an incremental build forgets
    ~10,000 shoppers, four keys each; issue 15). Now, and once more after the commit when
    called inside a transaction (``config.aftercommit.forget_keys``).
    """
    user_ids = list(user_ids)
    keys = [CACHE_KEY.format(pk) for pk in user_ids]
    for hook in _CACHE_KEY_HOOKS:
        keys.extend(hook(user_ids))
    forget_keys(keys)


def personalization_enabled(*, user) -> bool:
    return not ShopperChoice.objects.filter(user=user, personalization_enabled=False).exists()


def load_profile(*, user_id: int, now: datetime | None = None) -> Profile | None:
    """Read and decode a stored profile (uncached)."""
    if ShopperChoice.objects.filter(user_id=user_id, personalization_enabled=False).exists():
        return None
    stored = PreferenceProfile.objects.filter(user_id=user_id).first()
    if stored is None:
        return None
    now = now or timezone.now()
    factor = decay_factor(now)
    by_dimension: dict[str, list[tuple[str, float]]] = {d: [] for d in DIMENSIONS}
    for key, raw in stored.affinities.items():
        dimension, _, value = key.partition(":")
        # A withdrawn like cancels its like: a score of 0 (or below) is no interest.
        if dimension in by_dimension and float(raw) > 0:
            by_dimension[dimension].append((value, float(raw) * factor))
    intents = []
    for key, expiry in stored.intents.items():
        expires_at = datetime.fromtimestamp(int(expiry), tz=UTC)
        if expires_at > now:
            intent, _, category = key.partition(":")
            intents.append((intent, category, expires_at))
    labels = _labels(
        {**by_dimension, "category": by_dimension["category"] + [(c, 0) for _, c, _ in intents]}
    )
    interests = {}
    for dimension, items in by_dimension.items():
        items.sort(key=lambda item: (-item[1], item[0]))
        if items:
            top = items[0][1] or 1.0
            interests[dimension] = [
                Interest(
                    dimension, value, labels.get((dimension, value), value), score, score / top
                )
                for value, score in items
            ]
    social = stored.demographics.get("interests") or []
    if social:
        interests["interest"] = [
            Interest("interest", value, value.capitalize(), 1.0) for value in social
        ]
    orders = stored.order_count
    monetary = float(stored.monetary)
    aov = monetary / orders if orders else 0.0
    intents = sorted(
        (
            Intent(
                intent,
                int(category) if category else None,
                expires_at,
                labels.get(("category", category), "") if category else "",
            )
            for intent, category, expires_at in intents
        ),
        key=lambda item: (item.expires_at, item.intent, item.category_label),
    )
    recency = (now - stored.last_purchase_at).days if stored.last_purchase_at else None
    return Profile(
        user_id=user_id,
        interests=interests,
        event_count=stored.event_count,
        recency_days=recency,
        frequency=orders,
        monetary=monetary,
        average_order_value=round(aov, 2),
        lifetime_value=monetary,
        average_sentiment=stored.average_sentiment,
        intents=intents,
        demographics={k: v for k, v in stored.demographics.items() if k != "interests"},
        built_at=stored.updated_at,
    )


def _labels(by_dimension) -> dict[tuple[str, str], str]:
    from shop.models import Brand, Category, Product

    labels = {}
    for model, dimension in ((Category, "category"), (Brand, "brand")):
        ids = [int(v) for v, _ in by_dimension.get(dimension, []) if v.isdigit()]
        if ids:
            for pk, name in model.objects.filter(pk__in=ids).values_list("pk", "name"):
                labels[(dimension, str(pk))] = name
    for value, label in Product.PriceBand.choices:
        labels[("price_band", value)] = label
    for dimension in ("colour", "size", "style"):
        for value, _ in by_dimension.get(dimension, []):
            labels[(dimension, value)] = value.upper() if dimension == "size" else value.title()
    return labels


def removed_interests(*, user) -> list[Interest]:
    """What the shopper removed, with readable labels (two small queries at most)."""
    removed = list(
        RemovedInterest.objects.filter(user=user)
        .order_by("dimension", "value")
        .values_list("dimension", "value")
    )
    by_dimension: dict[str, list[tuple[str, float]]] = {}
    for dimension, value in removed:
        by_dimension.setdefault(dimension, []).append((value, 0.0))
    labels = _labels(by_dimension)
    return [Interest(d, v, labels.get((d, v), v.capitalize()), 0.0) for d, v in removed]


def recent_builds(limit: int = 10):
    return ProfileBuildRun.objects.all()[:limit]
