"""Recommenders: the swap point of the recommendations (RECOMMENDATIONS_BACKEND, ``get_backend``).

A recommender turns what the store knows about a shopper into an ordered list of ``Pick``s, each
with its reason. It runs on the cold path only (the result is cached and stored as a
``PickDecision``), so it may run a handful of queries; it must never return a product the
shopper bought, an inactive product or one with no variant in stock.

To add one: subclass ``Recommender``, implement ``picks_for``, point RECOMMENDATIONS_BACKEND at
it, and run ``tests/recommendations/test_backends.py`` (the contract test runs against every
class listed in ``BACKENDS_UNDER_TEST`` there). ``make bench`` prints its hit rate at 10.
"""

from dataclasses import dataclass, field
from functools import lru_cache

from django.db.models import Exists, OuterRef, Q
from django.utils.module_loading import import_string

from personalization.models import Event
from shop.models import Product, Variant

from . import conf
from .models import ProductPair, ProductPopularity


@dataclass(frozen=True)
class Pick:
    """One recommended product and why. ``reason``: bought, liked, affinity or popular;
    ``because``: the product that led to it (bought/liked); ``text``: the plain-words reason."""

    product_id: int
    reason: str
    text: str
    because: int | None = None
    score: float = 0.0
    dimension: str = ""
    value: str = ""

    def as_dict(self) -> dict:
        return {
            "product": self.product_id,
            "reason": self.reason,
            "because": self.because,
            "text": self.text,
            "score": round(self.score, 6),
            **({"dimension": self.dimension, "value": self.value} if self.dimension else {}),
        }


@dataclass
class Picks:
    picks: list[Pick]
    data_used: list[str] = field(default_factory=list)

    @property
    def personalized(self) -> bool:
        return any(pick.reason != "popular" for pick in self.picks)


def _available(ids) -> dict[int, dict]:
    """Active, in-stock products among ``ids`` with what reasons need (one query)."""
    in_stock = Variant.objects.filter(product=OuterRef("pk"), stock__gt=0)
    rows = (
        Product.objects.visible()
        .filter(pk__in=list(ids))
        .filter(Exists(in_stock))
        .values(
            "pk",
            "name",
            "category_id",
            "category__name",
            "brand_id",
            "brand__name",
            "colour",
            "style",
            "price",
        )
    )
    return {row["pk"]: row for row in rows}


def bought_and_liked(*, user_id: int) -> tuple[set[int], list[tuple[int, str]]]:
    """The products the shopper bought (all), and their latest bought or still-liked products
    as seeds ``[(product_id, "bought" | "liked")]``, newest first (one query)."""
    rows = (
        Event.objects.filter(
            user_id=user_id, kind__in=["purchase", "like", "unlike"], product__isnull=False
        )
        .order_by("-occurred_at", "-pk")
        .values_list("product_id", "kind")[:2000]
    )
    bought: set[int] = set()
    like_balance: dict[int, int] = {}
    order: list[tuple[int, str]] = []
    for product_id, kind in rows:
        if kind == "purchase":
            bought.add(product_id)
            order.append((product_id, "bought"))
        else:
            like_balance[product_id] = like_balance.get(product_id, 0) + (
                1 if kind == "like" else -1
            )
            order.append((product_id, "liked"))
    seeds, seen = [], set()
    for product_id, kind in order:
        if product_id in seen:
            continue
        if kind == "liked" and like_balance.get(product_id, 0) <= 0 and product_id not in bought:
            continue
        seen.add(product_id)
        seeds.append((product_id, "bought" if product_id in bought else kind))
    return bought, seeds


class Recommender:
    """Base class: ``picks_for`` returns up to ``limit`` picks, best first."""

    name = "base"

    def picks_for(self, *, user_id: int | None, profile, limit: int, exclude=()) -> Picks:
        raise NotImplementedError

    def popular(self, *, limit: int, exclude=()) -> list[Pick]:
        """The most popular available products (reason: popular in their category)."""
        return self._popular(limit=limit, exclude=exclude)

    def popular_near(
        self, *, category_id: int, parent_id: int | None, limit: int, exclude=()
    ) -> list[Pick]:
        """``popular`` for a page of the category ``category_id`` (its parent ``parent_id``):
        the category's own popular products (its subcategories' too) first, then its parent's
        and sibling categories', then the whole store's, so it gives as many picks as
        ``popular`` does. At most two queries per level reached."""
        levels = [Q(category_id=category_id) | Q(category__parent_id=category_id)]
        if parent_id is not None:
            levels.append(Q(category_id=parent_id) | Q(category__parent_id=parent_id))
        levels.append(None)
        picks, taken = [], set(exclude)
        for where in levels:
            if len(picks) >= limit:
                break
            more = self._popular(limit=limit - len(picks), exclude=taken, where=where)
            picks += more
            taken |= {pick.product_id for pick in more}
        return picks

    def _popular(self, *, limit: int, exclude=(), where=None) -> list[Pick]:
        exclude = set(exclude)
        ranked = ProductPopularity.objects.order_by("-score", "product_id")
        if where is not None:
            ranked = ranked.filter(where)
        ids = list(ranked.values_list("product_id", flat=True)[: limit * 4 + len(exclude)])
        rows = _available(i for i in ids if i not in exclude)
        picks = []
        for rank, pk in enumerate(ids):
            if pk in rows and len(picks) < limit:
                picks.append(
                    Pick(
                        pk,
                        "popular",
                        f"Popular in {rows[pk]['category__name']}",
                        score=1.0 / (rank + 1),
                    )
                )
        return picks


class PopularityRecommender(Recommender):
    """The baseline: the most popular products the shopper has not bought."""

    name = "popularity"

    def picks_for(self, *, user_id, profile, limit, exclude=()) -> Picks:
        bought = bought_and_liked(user_id=user_id)[0] if user_id else set()
        return Picks(self.popular(limit=limit, exclude=set(exclude) | bought), ["popularity"])


# Affinity dimensions compared with a product's attributes, and how much each counts.
AFFINITY_WEIGHTS = {
    "category": 1.0,
    "brand": 0.6,
    "style": 0.3,
    "colour": 0.2,
    "price_band": 0.2,
}


class AffinityPairsRecommender(Recommender):
    """Item-to-item co-purchase / co-like counts from the shopper's latest purchases and likes,
    blended with the profile's affinities (category, brand, style, colour, price band) and a
    little popularity; padded with popular products.

    score = 1.0 * pairs / max(pairs) + 0.6 * affinity / max(affinity) + 0.15 * popularity rank
    term. The reason names the strongest part: the bought or liked product that contributes
    most, else the strongest matching interest, else "Popular in <category>".
    """

    name = "affinity+pairs"
    seeds = 20
    per_interest = 40

    def picks_for(self, *, user_id, profile, limit, exclude=()) -> Picks:
        if user_id is None:
            return Picks(self.popular(limit=limit, exclude=exclude), ["popularity"])
        bought, seeds = bought_and_liked(user_id=user_id)
        seeds = seeds[: self.seeds]
        skip = set(exclude) | bought
        data_used = []
        pair_score: dict[int, float] = {}
        pair_best: dict[int, tuple[float, int, str]] = {}
        if seeds:
            data_used += sorted({"purchases" if k == "bought" else "likes" for _, k in seeds})
            seed_weight = {pk: 0.9**i for i, (pk, _) in enumerate(seeds)}
            seed_kind = dict(seeds)
            for product_id, other_id, score in ProductPair.objects.filter(
                product_id__in=list(seed_weight)
            ).values_list("product_id", "other_id", "score"):
                if other_id in skip:
                    continue
                part = score * seed_weight[product_id]
                pair_score[other_id] = pair_score.get(other_id, 0.0) + part
                if part > pair_best.get(other_id, (0.0, 0, ""))[0]:
                    pair_best[other_id] = (part, product_id, seed_kind[product_id])
        interests = self._interests(profile)
        if interests:
            data_used.append("interests")
        popular_ids = self._interest_candidates(interests)
        candidates = set(pair_score) | set(popular_ids)
        candidates -= skip
        rows = _available(candidates | {pk for _, pk, _ in pair_best.values()})
        top_pair = max(pair_score.values(), default=0.0) or 1.0
        raw = []
        for pk in candidates:
            if pk in rows:
                affinity, best = self._affinity(rows[pk], interests)
                raw.append((pk, pair_score.get(pk, 0.0) / top_pair, affinity, best))
        top_affinity = max((item[2] for item in raw), default=0.0) or 1.0
        scored = sorted(
            (
                (
                    pair + 0.6 * aff / top_affinity + 0.15 * popular_ids.get(pk, 0.0),
                    pair,
                    aff / top_affinity,
                    best,
                    pk,
                )
                for pk, pair, aff, best in raw
            ),
            key=lambda s: (-s[0], s[4]),
        )
        picks = []
        for total, pair, affinity, best, pk in scored[:limit]:
            row = rows[pk]
            if pair > 0 and pair >= 0.6 * affinity:
                _, seed, kind = pair_best[pk]
                name = rows[seed]["name"] if seed in rows else "something you chose"
                text = f"Because you {'bought' if kind == 'bought' else 'liked'} {name}"
                picks.append(Pick(pk, kind, text, because=seed, score=total))
            elif best is not None:
                dimension, value, label = best
                picks.append(
                    Pick(
                        pk,
                        "affinity",
                        _affinity_text(dimension, label),
                        score=total,
                        dimension=dimension,
                        value=value,
                    )
                )
            else:
                picks.append(
                    Pick(pk, "popular", f"Popular in {row['category__name']}", score=total)
                )
        if len(picks) < limit:
            taken = skip | {pick.product_id for pick in picks}
            picks += self.popular(limit=limit - len(picks), exclude=taken)
            if "popularity" not in data_used:
                data_used.append("popularity")
        return Picks(picks, data_used)

    @staticmethod
    def _interests(profile) -> dict[str, dict[str, tuple[float, str]]]:
        """``{dimension: {value: (share 0..1, label)}}`` of the profile's top interests."""
        if profile is None:
            return {}
        result = {}
        for dimension in AFFINITY_WEIGHTS:
            items = profile.interests.get(dimension, [])[:5]
            if items:
                result[dimension] = {i.value: (i.share, i.label) for i in items}
        return result

    def _interest_candidates(self, interests) -> dict[int, float]:
        """Popular products of the shopper's top categories and brands, with a 0..1
        popularity term (one query)."""
        categories = [int(v) for v in interests.get("category", {}) if v.isdigit()][:3]
        brands = [int(v) for v in interests.get("brand", {}) if v.isdigit()][:3]
        if not categories and not brands:
            return {}
        rows = list(
            ProductPopularity.objects.filter(
                Q(category_id__in=categories) | Q(product__brand_id__in=brands)
            )
            .order_by("-score", "product_id")
            .values_list("product_id", flat=True)[: self.per_interest * 2]
        )
        return {pk: 1.0 / (1 + rank / 10) for rank, pk in enumerate(rows)}

    @staticmethod
    def _affinity(row, interests) -> tuple[float, tuple[str, str, str] | None]:
        from shop.models import price_band_for

        values = {
            "category": str(row["category_id"]),
            "brand": str(row["brand_id"]),
            "style": (row["style"] or "").lower(),
            "colour": (row["colour"] or "").lower(),
            "price_band": str(price_band_for(row["price"])),
        }
        total, best, best_part = 0.0, None, 0.0
        for dimension, weight in AFFINITY_WEIGHTS.items():
            share_label = interests.get(dimension, {}).get(values[dimension])
            if share_label:
                part = weight * share_label[0]
                total += part
                if part > best_part:
                    best_part, best = part, (dimension, values[dimension], share_label[1])
        return total, best


def _affinity_text(dimension: str, label: str) -> str:
    if dimension == "category":
        return f"You often look at {label}"
    if dimension == "brand":
        return f"You like {label}"
    if dimension == "price_band":
        return f"In your usual price range ({label})"
    return f"You like {label.lower()} {'styles' if dimension == 'style' else 'colours'}"


@lru_cache(maxsize=8)
def _backend(path: str) -> Recommender:
    return import_string(path)()


def get_backend(path: str | None = None) -> Recommender:
    """The configured recommender (RECOMMENDATIONS_BACKEND), or the one at ``path``."""
    return _backend(path or conf.get("RECOMMENDATIONS_BACKEND"))
