"""How reviews take part in engagement: likes on approved reviews and a profile section.

Called once from ``ReviewsConfig.ready()``; see docs/engagement.md for the registry.
"""

from django.db.models import QuerySet


def _queryset() -> QuerySet:
    from .models import Review

    return Review.objects.select_related("product").prefetch_related("product__images")


def _is_visible(review) -> bool:
    """Only approved reviews of products on sale can be liked (pending, rejected: 404)."""
    return review.status == review.Status.APPROVED and review.product.is_active


def _title(review) -> str:
    return f"Review of {review.product.name}: {review.title}"


def _image_url(review) -> str | None:
    image = review.product.primary_image
    return image.image.url if image else None


def _url(review) -> str:
    return f"{review.product.get_absolute_url()}#review-{review.pk}"


def _event_attributes(review) -> dict:
    """Which product the review is about, and its rating, as attributes only: liking a review
    is not liking its product (a liked one-star warning is the opposite), so the event's
    ``product`` stays empty and preference profiles (which weigh ``like`` events by their
    product) do not count it as interest in the product."""
    return {"product_id": review.product_id, "rating": review.rating}


def public_reviews(*, user, viewer) -> list:
    """The shopper's approved reviews for their public profile: newest ten, in one query.
    The profile's privacy is enforced for every section by ``profile_sections.filled``."""
    from .models import Review

    return list(
        Review.objects.approved()
        .filter(author=user, product__is_active=True)
        .select_related("product")
        .order_by("-created_at", "-pk")[:10]
    )


def register() -> None:
    from social.engagement import likeable, profile_sections

    from .models import Review

    likeable.register(
        Review,
        key="review",
        queryset=_queryset,
        is_visible=_is_visible,
        title=_title,
        image_url=_image_url,
        url=_url,
        event_attributes=_event_attributes,
        shareable=False,
    )
    profile_sections.register(
        key="reviews",
        title="Reviews",
        template="reviews/_profile_reviews.html",
        items=public_reviews,
    )
