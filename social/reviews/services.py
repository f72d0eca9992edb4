"""Write-side operations on reviews and product questions. Views, API and admin call these."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F, Q
from django.utils import timezone

from personalization import events
from shop.models import Order, OrderLine, Product
from social.community import rate_limit_check
from social.text import has_visible_text
from webhooks import payloads as webhook_payloads

from . import selectors
from .exceptions import (
    AlreadyVoted,
    DuplicateReview,
    InvalidReview,
    NotAllowed,
    NotFound,
    RateLimited,
)
from .models import Answer, HelpfulVote, Question, Review, ReviewPhoto, ReviewReport
from .photos import photo_sanitize

TITLE_MAX, BODY_MAX, BODY_MIN = 120, 5000, 10
MAX_PHOTOS = 3
NOT_BOUGHT = [Order.Status.CANCELLED, Order.Status.REFUNDED]


def clean_text(value, *, label: str, max_length: int, min_length: int = 1) -> str:
    """Stripped text within limits, or an InvalidReview that says what to fix."""
    text = str(value or "").replace("\x00", "").strip()
    if not has_visible_text(text):  # social.text: blank "letters" and format characters too
        raise InvalidReview(f"Please write a {label}.")
    if len(text) < min_length:
        raise InvalidReview(f"The {label} is too short: write at least {min_length} characters.")
    if len(text) > max_length:
        raise InvalidReview(f"The {label} is too long: at most {max_length} characters.")
    return text


def parse_rating(value) -> int:
    try:
        rating = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidReview("Choose a rating from 1 to 5 stars.") from None
    if not 1 <= rating <= 5:
        raise InvalidReview("Choose a rating from 1 to 5 stars.")
    return rating


def is_verified_buyer(*, user, product_id: int) -> bool:
    return (
        OrderLine.objects.filter(order__user=user, product_id=product_id)
        .exclude(order__status__in=NOT_BOUGHT)
        .exists()
    )


def reviews_reverify(*, user_id: int | None, product_ids: list[int]) -> int:
    """Set ``verified_buyer`` on ``user_id``'s reviews of ``product_ids`` from their orders as
    they stand now (a cancelled or refunded order no longer counts); returns rows changed."""
    if user_id is None or not product_ids:
        return 0
    bought = set(
        OrderLine.objects.filter(order__user_id=user_id, product_id__in=product_ids)
        .exclude(order__status__in=NOT_BOUGHT)
        .values_list("product_id", flat=True)
    )
    mine = Review.objects.filter(author_id=user_id, product_id__in=product_ids)
    changed = mine.filter(product_id__in=bought, verified_buyer=False).update(verified_buyer=True)
    changed += (
        mine.exclude(product_id__in=bought).filter(verified_buyer=True).update(verified_buyer=False)
    )
    if changed:
        from shop.pagecache import storefront_changed

        storefront_changed()  # the "verified buyer" mark shows on cached product pages
    return changed


def auto_approve_policy() -> str:
    return getattr(settings, "AGORA_REVIEWS_AUTO_APPROVE", "verified")


POLICY_WORDS = {
    "all": "Reviews are published as soon as you post them; our moderators remove any that "
    "break the guidelines.",
    "verified": "Reviews from verified buyers, and from shoppers with an approved review, are "
    "published at once; other reviews are checked by our moderators first.",
    "none": "Every review is checked by our moderators before it is published.",
}


def auto_approve_policy_words() -> str:
    """What shoppers and staff are told about the policy in force (one text for both, so the
    words cannot disagree with ``_initial_status``)."""
    return POLICY_WORDS.get(auto_approve_policy(), POLICY_WORDS["none"])


def _initial_status(*, user, verified: bool) -> str:
    """Approve automatically per policy. The rating and tone never decide: negative reviews are
    never held back for being negative."""
    policy = auto_approve_policy()
    if user.is_staff or policy == "all":
        return Review.Status.APPROVED
    if policy == "verified":
        trusted = Review.objects.filter(author=user, status=Review.Status.APPROVED).exists()
        if verified or trusted:
            return Review.Status.APPROVED
    return Review.Status.PENDING


def _check_photos(photos) -> list:
    photos = [p for p in (photos or []) if p]
    if len(photos) > MAX_PHOTOS:
        raise InvalidReview(f"Add at most {MAX_PHOTOS} photos.")
    return [photo_sanitize(photo) for photo in photos]


RATE_LIMITS = {"new": (3, 3600), "member": (10, 3600)}  # (writes, seconds)


def _check_rate(user) -> None:
    """Reviews written or edited, questions and answers all count towards one limit per shopper:
    new accounts may write 3 an hour, others 10 (setting ``AGORA_REVIEWS_RATE_LIMITS``)."""

    def writes_since(since) -> int:
        reviews = Review.objects.filter(author=user).filter(
            Q(created_at__gte=since) | Q(edited_at__gte=since)
        )
        questions = Question.objects.filter(author=user, created_at__gte=since)
        answers = Answer.objects.filter(author=user, created_at__gte=since)
        return reviews.count() + questions.count() + answers.count()

    rate_limit_check(
        user=user,
        limits=getattr(settings, "AGORA_REVIEWS_RATE_LIMITS", RATE_LIMITS),
        writes_since=writes_since,
        error=RateLimited,
        noun="reviews, questions or answers",
    )


@transaction.atomic
def product_rating_refresh(*, product_id: int) -> None:
    """Recompute the denormalized rating on the product from its approved reviews."""
    Product.objects.select_for_update().filter(pk=product_id).values_list("pk").first()
    stats = (
        Review.objects.approved()
        .filter(product_id=product_id)
        .aggregate(avg=Avg("rating"), count=Count("pk"))
    )
    avg = Decimal(str(stats["avg"] or 0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    Product.objects.filter(pk=product_id).update(rating_avg=avg, rating_count=stats["count"])
    selectors.reviews_changed(product_id=product_id)


def _schedule_analysis(review: Review) -> None:
    from .tasks import analyse_review

    transaction.on_commit(lambda: analyse_review.delay(review.pk))


@transaction.atomic
def review_create(*, user, product: Product, rating, title, body, photos=()) -> Review:
    rating = parse_rating(rating)
    title = clean_text(title, label="title", max_length=TITLE_MAX)
    body = clean_text(body, label="review", max_length=BODY_MAX, min_length=BODY_MIN)
    photos = _check_photos(photos)
    if not product.is_active:
        raise NotFound("This product is no longer available.")
    _check_rate(user)
    verified = is_verified_buyer(user=user, product_id=product.pk)
    status = _initial_status(user=user, verified=verified)
    try:
        with transaction.atomic():
            review = Review.objects.create(
                product=product,
                author=user,
                rating=rating,
                title=title,
                body=body,
                verified_buyer=verified,
                status=status,
            )
    except IntegrityError:
        raise DuplicateReview(
            "You have already reviewed this product: edit your review instead."
        ) from None
    for position, photo in enumerate(photos):
        ReviewPhoto.objects.create(review=review, image=photo, position=position)
    if status == Review.Status.APPROVED:
        product_rating_refresh(product_id=product.pk)
        webhook_payloads.emit_review_published(review=review)  # issue 14
    events.record(events.Event.Kind.REVIEW, user=user, product=product, value=Decimal(rating))
    _schedule_analysis(review)
    return review


def review_for_update(*, user, review_id) -> Review:
    review = Review.objects.select_for_update().filter(pk=review_id).first()
    if review is None:
        raise NotFound("This review does not exist.")
    if review.author_id != user.pk:
        raise NotAllowed("You can only change your own review.")
    return review


@transaction.atomic
def review_update(
    *, user, review_id, rating, title, body, photos=(), remove_photo_ids=()
) -> Review:
    rating = parse_rating(rating)
    title = clean_text(title, label="title", max_length=TITLE_MAX)
    body = clean_text(body, label="review", max_length=BODY_MAX, min_length=BODY_MIN)
    review = review_for_update(user=user, review_id=review_id)
    photos = _check_photos(photos)
    kept = review.photos.exclude(pk__in=[int(i) for i in remove_photo_ids if str(i).isdigit()])
    if kept.count() + len(photos) > MAX_PHOTOS:
        raise InvalidReview(f"A review can have at most {MAX_PHOTOS} photos.")
    review.photos.exclude(pk__in=kept.values("pk")).delete()
    changed = (rating, title, body) != (review.rating, review.title, review.body) or photos
    if not changed:
        return review
    _check_rate(user)
    review.rating, review.title, review.body = rating, title, body
    review.verified_buyer = is_verified_buyer(user=user, product_id=review.product_id)
    review.status = _initial_status(user=user, verified=review.verified_buyer)
    review.rejection_reason = ""
    review.edited_at = timezone.now()
    review.text_version = F("text_version") + 1
    review.save()
    review.refresh_from_db(fields=["text_version"])
    start = (kept.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    for offset, photo in enumerate(photos):
        ReviewPhoto.objects.create(review=review, image=photo, position=start + offset)
    product_rating_refresh(product_id=review.product_id)
    _schedule_analysis(review)
    return review


@transaction.atomic
def review_delete(*, user, review_id) -> None:
    review = review_for_update(user=user, review_id=review_id)
    product_id = review.product_id
    review.delete()
    product_rating_refresh(product_id=product_id)


@transaction.atomic
def review_moderate(*, review_id, status: str, actor, reason: str = "") -> Review:
    review = Review.objects.select_for_update().filter(pk=review_id).first()
    if review is None:
        raise NotFound("This review does not exist.")
    if status not in Review.Status.values:
        raise InvalidReview("Unknown moderation status.")
    reason = (reason or "").strip()[:200]
    if status == Review.Status.REJECTED and not reason:
        raise InvalidReview("Give a reason when rejecting a review.")
    was_published = review.status == Review.Status.APPROVED
    review.status = status
    review.rejection_reason = reason if status == Review.Status.REJECTED else ""
    review.moderated_by = actor
    review.moderated_at = timezone.now()
    review.save(update_fields=["status", "rejection_reason", "moderated_by", "moderated_at"])
    if status != Review.Status.PENDING:
        review.reports.update(resolved=True)
    product_rating_refresh(product_id=review.product_id)
    if status == Review.Status.APPROVED and not was_published:
        webhook_payloads.emit_review_published(review=review)  # issue 14
    return review


@transaction.atomic
def review_reply(*, review_id, actor, text: str) -> Review:
    if not actor.is_staff:
        raise NotAllowed("Only staff can reply publicly to reviews.")
    review = Review.objects.select_for_update().filter(pk=review_id).first()
    if review is None:
        raise NotFound("This review does not exist.")
    text = (text or "").strip()
    if len(text) > 3000:
        raise InvalidReview("The reply is too long: at most 3000 characters.")
    review.reply = text
    review.reply_by = actor if text else None
    review.reply_at = timezone.now() if text else None
    review.save(update_fields=["reply", "reply_by", "reply_at"])
    return review


def review_vote_helpful(*, user, review_id) -> int:
    """One vote per shopper per review, enforced by a unique constraint. Returns the new count."""
    review = Review.objects.approved().filter(pk=review_id).only("pk", "author_id").first()
    if review is None:
        raise NotFound("This review does not exist.")
    if review.author_id == user.pk:
        raise NotAllowed("You cannot vote for your own review.")
    try:
        with transaction.atomic():
            HelpfulVote.objects.create(review_id=review.pk, user=user)
            Review.objects.filter(pk=review.pk).update(helpful_count=F("helpful_count") + 1)
            from shop.pagecache import storefront_changed

            storefront_changed()  # the count shows on the cached product page
    except IntegrityError:
        raise AlreadyVoted("You already found this review helpful.") from None
    return Review.objects.values_list("helpful_count", flat=True).get(pk=review.pk)


def review_report(*, user, review_id, reason: str) -> ReviewReport:
    reason = clean_text(reason, label="reason", max_length=300)
    review = Review.objects.filter(pk=review_id).first()
    if review is None:
        raise NotFound("This review does not exist.")
    try:
        with transaction.atomic():
            report = ReviewReport.objects.create(review=review, reporter=user, reason=reason)
            Review.objects.filter(pk=review.pk).update(report_count=F("report_count") + 1)
    except IntegrityError:
        raise AlreadyVoted("You already reported this review; staff will look at it.") from None
    return report


@transaction.atomic
def question_ask(*, user, product: Product, text) -> Question:
    text = clean_text(text, label="question", max_length=1000, min_length=5)
    _check_rate(user)
    return Question.objects.create(product=product, author=user, text=text)


@transaction.atomic
def question_answer(*, user, question_id, text) -> Answer:
    text = clean_text(text, label="answer", max_length=2000, min_length=2)
    question = Question.objects.filter(pk=question_id, is_hidden=False).first()
    if question is None:
        raise NotFound("This question does not exist.")
    _check_rate(user)
    return Answer.objects.create(question=question, author=user, text=text, by_staff=user.is_staff)
