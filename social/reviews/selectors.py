"""Read-side queries for reviews and questions. Each runs a fixed number of queries."""

from dataclasses import dataclass
from uuid import uuid4

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet

from config.aftercommit import cache_fill

from .models import Answer, HelpfulVote, Question, Review

SORTS = {
    "newest": ("Newest", ["-created_at", "-pk"]),
    "helpful": ("Most helpful", ["-helpful_count", "-created_at", "-pk"]),
    "highest": ("Highest rating", ["-rating", "-created_at", "-pk"]),
    "lowest": ("Lowest rating", ["rating", "-created_at", "-pk"]),
}
DEFAULT_SORT = "newest"


@dataclass
class RatingSummary:
    average: float
    count: int
    bars: list[tuple[int, int, int]]  # (stars, count, percent)


def parse_sort(value) -> str:
    return value if value in SORTS else DEFAULT_SORT


def parse_stars(value) -> int | None:
    try:
        stars = int(value)
    except (TypeError, ValueError):
        return None
    return stars if 1 <= stars <= 5 else None


def reviews_for_product(product, *, sort: str = DEFAULT_SORT, stars: int | None = None) -> QuerySet:
    qs = Review.objects.approved().filter(product=product).for_display()
    if stars:
        qs = qs.filter(rating=stars)
    return qs.order_by(*SORTS[parse_sort(sort)][1])


# The rating summary and the JSON-LD reviews of a product page are cached under the product's
# reviews version, which ``reviews_changed`` replaces after every commit that changes approved
# reviews (``services.product_rating_refresh``). The version is read before the data, so a
# summary computed from data older than a change is stored under the version that change
# retired, and never read again. The timeout is a safety net (a renamed author, say).
VERSION_KEY = "reviews:v:{}"
CACHED_KEY = "reviews:{}:{}:{}"
CACHE_TIMEOUT = 600


def _reviews_version(product_id: int) -> str:
    key = VERSION_KEY.format(product_id)
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid4().hex[:12], 30 * 24 * 3600)
        version = cache.get(key) or "none"
    return version


def reviews_changed(*, product_id: int) -> None:
    """After the current transaction commits, give the product's reviews a new version (and
    the storefront a new one: ``shop.pagecache.storefront_changed``)."""
    from shop.pagecache import storefront_changed

    key = VERSION_KEY.format(product_id)
    transaction.on_commit(lambda: cache.set(key, uuid4().hex[:12], 30 * 24 * 3600))
    storefront_changed()  # the rating and the reviews show on cached store pages


def _cached(name: str, product, compute):
    key = CACHED_KEY.format(name, product.pk, _reviews_version(product.pk))
    value = cache.get(key)
    if value is None:
        value = compute()
        cache_fill(key, value, CACHE_TIMEOUT)
    return value


def rating_summary(product) -> RatingSummary:
    """Average, count and the distribution of approved reviews: one query, then cached until
    the product's approved reviews change."""
    return _cached("summary", product, lambda: _rating_summary(product))


def _rating_summary(product) -> RatingSummary:
    counts = (
        Review.objects.approved()
        .filter(product=product)
        .aggregate(**{f"s{n}": Count("pk", filter=Q(rating=n)) for n in range(1, 6)})
    )
    total = sum(counts.values())
    average = sum(n * counts[f"s{n}"] for n in range(1, 6)) / total if total else 0.0
    bars = [
        (n, counts[f"s{n}"], round(100 * counts[f"s{n}"] / total) if total else 0)
        for n in range(5, 0, -1)
    ]
    return RatingSummary(average=round(average, 2), count=total, bars=bars)


def review_of(*, user, product) -> Review | None:
    if not user.is_authenticated:
        return None
    return Review.objects.filter(author=user, product=product).prefetch_related("photos").first()


def voted_ids(*, user, review_ids) -> set[int]:
    if not user.is_authenticated or not review_ids:
        return set()
    return set(
        HelpfulVote.objects.filter(user=user, review_id__in=review_ids).values_list(
            "review_id", flat=True
        )
    )


def questions_for_product(product, *, limit: int = 10) -> list[Question]:
    answers = Answer.objects.filter(is_hidden=False).select_related("author__public_profile")
    return list(
        Question.objects.filter(product=product, is_hidden=False)
        .select_related("author__public_profile")
        .prefetch_related(Prefetch("answers", queryset=answers))[:limit]
    )


def display_name(user) -> str:
    from social.names import public_name

    return public_name(user)


def review_schema(product, *, limit: int = 5) -> list[dict]:
    """schema.org Review dicts for the product JSON-LD: the most recent approved reviews
    (cached like ``rating_summary``)."""
    if not product.rating_count:
        return []
    return _cached(f"schema{limit}", product, lambda: _review_schema(product, limit=limit))


def _review_schema(product, *, limit: int) -> list[dict]:
    reviews = (
        Review.objects.approved()
        .filter(product=product)
        .select_related("author")
        .order_by("-created_at", "-pk")[:limit]
    )
    return [
        {
            "@type": "Review",
            "name": review.title,
            "reviewBody": review.body,
            "datePublished": review.created_at.date().isoformat(),
            "author": {"@type": "Person", "name": display_name(review.author)},
            "reviewRating": {
                "@type": "Rating",
                "ratingValue": review.rating,
                "bestRating": 5,
                "worstRating": 1,
            },
        }
        for review in reviews
    ]


def moderation_queue() -> QuerySet:
    return (
        Review.objects.filter(Q(status=Review.Status.PENDING) | Q(reports__resolved=False))
        .distinct()
        .select_related("product", "author")
        .order_by("created_at")
    )


def reviews_per_page() -> int:
    return getattr(settings, "AGORA_REVIEWS_PER_PAGE", 10)
