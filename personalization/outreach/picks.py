"""Personal product picks for a campaign email, behind one function.

``picks_for(user, n)`` asks the store's recommender first: the same cached decision the shop's
pages show (``personalization.recommendations.selectors.picks_for``, which stores a
``PickDecision`` row on a miss). Only when the recommender has nothing (no popularity data
refreshed yet, nothing in stock it may show) does it fall back to a simple rule: the shopper's
strongest categories from their preference profile, most bought, liked and carted there in the
last 90 days, filled up with the store's most popular products; never what they already bought.
The result says which of the two produced the picks, so the email and the outbox row can say
why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from config.aftercommit import cache_fill

POPULAR_KEY = "outreach:popular:v1"

#: Where an email's picks came from (stored on ``OutreachMessage.picks_source``).
SOURCE_RECOMMENDER = "recommender"  # the store's recommender, personal picks
SOURCE_POPULAR = "popular"  # the store's recommender, its popular list (no profile yet / off)
SOURCE_FALLBACK = "fallback"  # the recommender had nothing: outreach's own popular rule
SOURCE_NONE = "none"  # no picks asked for, or none available

WHY = {
    SOURCE_RECOMMENDER: "picked for you by our recommendations, as on the shop",
    SOURCE_POPULAR: "our most popular products (the same ones the shop shows you)",
    SOURCE_FALLBACK: "popular products in the categories you shop most",
    SOURCE_NONE: "",
}


@dataclass(frozen=True)
class EmailPicks:
    """``picks``: the recommender's ``PickCard``s (name, price, ``url`` path, ``image_url``
    ...); ``source``: one of the ``SOURCE_*`` values; ``decision_id``: the recommender's
    ``PickDecision`` row when it decided (None otherwise)."""

    source: str
    picks: tuple

    decision_id: int | None = None

    @property
    def why(self) -> str:
        """Plain words for the email: where the picks came from ("" without picks)."""
        return WHY[self.source] if self.picks else ""


def _popular_ids(limit: int = 60) -> list[int]:
    """The store's most bought, liked and carted products of the last 90 days, then the best
    rated; cached for 10 minutes."""
    ids = cache.get(POPULAR_KEY)
    if ids is None:
        from personalization.models import Event
        from shop.models import Product

        since = timezone.now() - timedelta(days=90)
        visible = Product.objects.visible()
        ids = list(
            Event.objects.filter(
                kind__in=["purchase", "like", "add_to_cart"],
                occurred_at__gte=since,
                product__in=visible,
            )
            .values("product_id")
            .annotate(n=Count("id"))
            .order_by("-n", "product_id")
            .values_list("product_id", flat=True)[:limit]
        )
        if len(ids) < limit:
            ids += list(
                visible.exclude(pk__in=ids)
                .order_by("-rating_avg", "-rating_count", "pk")
                .values_list("pk", flat=True)[: limit - len(ids)]
            )
        cache_fill(POPULAR_KEY, ids, 600)
    return ids


def _fallback(user, n: int) -> tuple:
    """Popular products not yet bought, led by the shopper's two top categories (cards)."""
    from personalization.models import Event
    from personalization.recommendations.selectors import cards_for
    from personalization.selectors import profile_for
    from shop.models import Product

    bought = set(
        Event.objects.filter(user=user, kind="purchase", product__isnull=False).values_list(
            "product_id", flat=True
        )
    )
    popular = [pk for pk in _popular_ids() if pk not in bought]
    chosen: list[int] = []
    profile = profile_for(user)
    top_categories = profile.top("category", 2) if profile else []
    if top_categories:
        in_categories = set(
            Product.objects.filter(
                pk__in=popular, category_id__in=[int(c) for c in top_categories if c.isdigit()]
            ).values_list("pk", flat=True)
        )
        chosen = [pk for pk in popular if pk in in_categories][:n]
    chosen += [pk for pk in popular if pk not in chosen][: n - len(chosen)]
    visible = set(Product.objects.visible().filter(pk__in=chosen).values_list("pk", flat=True))
    return cards_for(pk for pk in chosen if pk in visible)


def picks_for(user, n: int) -> EmailPicks:
    """Up to ``n`` products for ``user``'s email and where they came from.

    The store's recommender decides first (its cached ``PickList``: personal picks, or its
    popular list for a shopper with no profile yet or personalization off); the fallback rule
    runs only when that list is empty. ``n <= 0`` gives no picks (source ``none``). Raises
    nothing of its own; database errors propagate.
    """
    if n <= 0:
        return EmailPicks(SOURCE_NONE, ())
    from personalization.recommendations.selectors import picks_for as store_picks_for

    decided = store_picks_for(user)
    cards = decided.cards[:n]
    if cards:
        source = SOURCE_RECOMMENDER if decided.personalized else SOURCE_POPULAR
        return EmailPicks(source, cards, decided.decision_id)
    picks = _fallback(user, n)
    return EmailPicks(SOURCE_FALLBACK if picks else SOURCE_NONE, picks)
