"""Personal data held by reviews: reviews and photos, helpful votes, reports, questions, answers.

Reviews, questions and answers are removed, or kept under "Former member" when the shopper
chose to keep their contributions (``ErasureOptions.keep_content``).
"""

from django.db.models import F
from django.db.models.functions import Greatest

from privacy import registry
from privacy.activitystreams import absolute, actor_id, iso
from privacy.registry import Custom, Delete, Detach


def export_reviews(user) -> list[dict]:
    from .models import Review

    reviews = (
        Review.objects.filter(author=user).select_related("product").prefetch_related("photos")
    )
    return [
        {
            "product": review.product.name,
            "product_url": absolute(review.product.get_absolute_url()),
            "rating": review.rating,
            "title": review.title,
            "body": review.body,
            "status": review.status,
            "verified_buyer": review.verified_buyer,
            "photos": [absolute(photo.image.url) for photo in review.photos.all()],
            "staff_reply": review.reply,
            "created_at": review.created_at,
            "edited_at": review.edited_at,
        }
        for review in reviews.order_by("created_at", "pk")
    ]


def reviews_as_activities(user) -> list[dict]:
    from .models import Review

    me = actor_id(user)
    reviews = Review.objects.filter(author=user).select_related("product").order_by("created_at")
    return [
        {
            "type": "Create",
            "actor": me,
            "published": iso(review.created_at),
            "object": {
                "type": "Note",
                "attributedTo": me,
                "name": review.title,
                "content": review.body,
                "summary": f"{review.rating} out of 5 stars",
                "inReplyTo": absolute(review.product.get_absolute_url()),
                "published": iso(review.created_at),
            },
        }
        for review in reviews
    ]


def _products_changed(product_ids) -> None:
    """The shown reviews, questions or answers of ``product_ids`` changed without a save or
    delete signal (a kept contribution whose author is erased, a vote count lowered by
    ``update``): give each its new reviews version after commit and the store pages a new one
    (``selectors.reviews_changed``), so no cached summary, JSON-LD or page keeps the name."""
    from .selectors import reviews_changed

    for product_id in set(product_ids):
        reviews_changed(product_id=product_id)


def _erase_reviews(queryset, *, field, user, options) -> int:
    from .services import product_rating_refresh

    if options.keep_content:
        # Kept as "Former member": the author's name goes with the account row, so the cached
        # reviews (their JSON-LD names the author) and the store pages must be read again.
        _products_changed(queryset.values_list("product_id", flat=True))
        return queryset.count()
    product_ids = set(queryset.values_list("product_id", flat=True))
    from .models import ReviewPhoto

    for photo in ReviewPhoto.objects.filter(review__in=queryset):
        photo.image.delete(save=False)
    deleted, _ = queryset.delete()
    for product_id in product_ids:
        product_rating_refresh(product_id=product_id)
    return deleted


registry.register(
    "reviews.Review",
    kind="reviews",
    description="The reviews you wrote, with their photos and our replies. On erasure you "
    "choose: removed, or kept under 'Former member'.",
    owner="author",
    fields={
        "product": "The product reviewed.",
        "product_url": "Its address.",
        "rating": "Stars, 1 to 5.",
        "title": "Your title.",
        "body": "Your text.",
        "status": "pending, approved or rejected.",
        "verified_buyer": "Whether you had bought the product.",
        "photos": "Addresses of your photos.",
        "staff_reply": "Our reply, if any.",
        "created_at": "When you wrote it (UTC, ISO 8601).",
        "edited_at": "When you last changed it.",
    },
    export=export_reviews,
    activity_streams=reviews_as_activities,
    erase=Custom(fn=_erase_reviews, label="removed, or kept as a former member (your choice)"),
    references={
        "moderated_by": Detach(),
        "reply_by": Detach(),
    },
)


def _erase_votes(queryset, *, field, user, options) -> int:
    from .models import Review

    review_ids = list(queryset.values_list("review_id", flat=True))
    deleted, _ = queryset.delete()
    if review_ids:
        Review.objects.filter(pk__in=review_ids).update(
            helpful_count=Greatest(F("helpful_count") - 1, 0)  # one vote per shopper per review
        )
        # ``update`` sends no signal: the counts show on the cached product pages.
        _products_changed(
            Review.objects.filter(pk__in=review_ids).values_list("product_id", flat=True)
        )
    return deleted


registry.register(
    "reviews.HelpfulVote",
    kind="helpful_votes",
    description="Reviews you marked as helpful.",
    fields={"review__product__name": "The product.", "created_at": "When (UTC, ISO 8601)."},
    erase=Custom(fn=_erase_votes, label="deleted"),
    order=50,
)

registry.register(
    "reviews.ReviewReport",
    kind="review_reports",
    description="Reviews you reported to our moderators, and why.",
    owner="reporter",
    fields={"review_id": "The review.", "reason": "Your reason.", "created_at": "When."},
    erase=Delete(),
    order=50,
)


def _erase_if_not_kept(queryset, *, field, user, options) -> int:
    """Questions and answers: deleted (their delete signals refresh the store pages), or kept
    as "Former member", when the pages showing the author's name are refreshed here."""
    if options.keep_content:
        product = "product_id" if queryset.model.__name__ == "Question" else "question__product_id"
        _products_changed(queryset.values_list(product, flat=True))
        return queryset.count()
    return queryset.delete()[0]


KEEP_OR_REMOVE = Custom(fn=_erase_if_not_kept, label="removed, or kept as a former member")

registry.register(
    "reviews.Question",
    kind="questions",
    description="Questions you asked about products.",
    owner="author",
    fields={
        "product__name": "The product.",
        "text": "Your question.",
        "created_at": "When (UTC, ISO 8601).",
    },
    erase=KEEP_OR_REMOVE,
)

registry.register(
    "reviews.Answer",
    kind="answers",
    description="Answers you gave to other shoppers' questions.",
    owner="author",
    fields={
        "question__text": "The question.",
        "text": "Your answer.",
        "created_at": "When (UTC, ISO 8601).",
    },
    erase=KEEP_OR_REMOVE,
    order=50,
)
