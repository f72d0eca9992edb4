"""Product reviews, helpful votes, reports and product questions.

Invariants kept by the database: one review per shopper per product, a rating from 1 to 5,
one helpful vote per shopper per review, one report per shopper per review.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from social.community import Report
from social.textsignals.models import AnalysedText


class ReviewQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(status=Review.Status.APPROVED)

    def for_display(self):
        return self.select_related("author__public_profile", "reply_by").prefetch_related("photos")


class Review(AnalysedText):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    product = models.ForeignKey("shop.Product", related_name="reviews", on_delete=models.CASCADE)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="reviews", on_delete=models.CASCADE
    )
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=120)
    body = models.TextField(max_length=5000)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    rejection_reason = models.CharField(max_length=200, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    verified_buyer = models.BooleanField(default=False)
    helpful_count = models.PositiveIntegerField(default=0)
    report_count = models.PositiveIntegerField(default=0)
    reply = models.TextField("staff reply", max_length=3000, blank=True)
    reply_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    reply_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["product", "author"], name="one_review_per_shopper"),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"
            ),
        ]
        indexes = [
            models.Index(fields=["product", "status", "-created_at"], name="review_product_recent"),
            models.Index(fields=["status", "created_at"], name="review_queue"),
            # The loyalty replacement-intent trigger (personalization/loyalty/triggers.py,
            # ReplacementIntent): recent texts with a replacement intent, a small slice.
            models.Index(
                fields=["created_at"],
                name="review_replacement_recent",
                condition=Q(intents__contains=[{"intent": "replacement"}]),
            ),
        ]

    def __str__(self):
        return f"{self.rating}★ {self.title}"

    def signal_text(self) -> str:
        return f"{self.title}. {self.body}"


class ReviewPhoto(models.Model):
    review = models.ForeignKey(Review, related_name="photos", on_delete=models.CASCADE)
    image = models.ImageField(upload_to="reviews/%Y/%m/")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.image.name


class HelpfulVote(models.Model):
    review = models.ForeignKey(Review, related_name="votes", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "user"], name="one_helpful_vote_per_user")
        ]

    def __str__(self):
        return f"{self.user_id} found {self.review_id} helpful"


class ReviewReport(Report):
    review = models.ForeignKey(Review, related_name="reports", on_delete=models.CASCADE)

    class Meta(Report.Meta):
        constraints = [
            models.UniqueConstraint(fields=["review", "reporter"], name="one_report_per_review")
        ]

    def __str__(self):
        return f"Report on review {self.review_id}: {self.reason[:40]}"


class Question(models.Model):
    product = models.ForeignKey("shop.Product", related_name="questions", on_delete=models.CASCADE)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="product_questions", on_delete=models.CASCADE
    )
    text = models.TextField(max_length=1000)
    is_hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["product", "-created_at"], name="question_product_recent")]

    def __str__(self):
        return self.text[:60]


class Answer(models.Model):
    question = models.ForeignKey(Question, related_name="answers", on_delete=models.CASCADE)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="product_answers", on_delete=models.CASCADE
    )
    text = models.TextField(max_length=2000)
    by_staff = models.BooleanField(default=False)
    is_hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-by_staff", "created_at", "pk"]

    def __str__(self):
        return self.text[:60]
