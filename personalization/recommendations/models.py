"""Recommendation data: item-to-item counts, popularity, and the decisions (picks shown, why).

``ProductPair`` and ``ProductPopularity`` are derived tables, rebuilt by the Celery task
``recommendations.tasks.refresh_recommendation_data`` in set-based SQL from the event log.
``PickDecision`` is the decision row: the picks chosen for a shopper and the reason of each,
written when the picks are chosen (a cache miss), never reconstructed later.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ProductPair(models.Model):  # noqa: DJ008 (a derived row; the admin shows its fields)
    """``other`` is bought or liked by shoppers who bought or liked ``product``.

    ``co_purchases`` and ``co_likes`` count distinct shoppers who did both; ``score`` is the
    weighted sum used for ranking (RECOMMENDATIONS_PAIR_WEIGHTS). Only the top
    RECOMMENDATIONS_PAIRS_PER_PRODUCT partners of each product are kept.
    """

    product = models.ForeignKey("shop.Product", related_name="+", on_delete=models.CASCADE)
    other = models.ForeignKey("shop.Product", related_name="+", on_delete=models.CASCADE)
    co_purchases = models.PositiveIntegerField(default=0)
    co_likes = models.PositiveIntegerField(default=0)
    score = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "other"], name="one_pair_per_products")
        ]
        indexes = [models.Index(fields=["product", "-score"], name="pair_product_score")]


class ProductPopularity(models.Model):  # noqa: DJ008
    """How popular a product is lately: weighted purchases, likes and views over
    RECOMMENDATIONS_POPULARITY_DAYS (weights: RECOMMENDATIONS_POPULARITY_WEIGHTS)."""

    product = models.OneToOneField(
        "shop.Product", primary_key=True, related_name="+", on_delete=models.CASCADE
    )
    category = models.ForeignKey("shop.Category", related_name="+", on_delete=models.CASCADE)
    purchases = models.PositiveIntegerField(default=0)
    likes = models.IntegerField(default=0)
    views = models.PositiveIntegerField(default=0)
    score = models.FloatField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["-score"], name="popularity_score"),
            models.Index(fields=["category", "-score"], name="popularity_category_score"),
        ]


class PickDecision(models.Model):
    """One decision: the products picked for a shopper at ``decided_at`` and why.

    ``picks`` is a list of ``{"product": id, "reason": kind, "because": id or null,
    "text": plain words, "score": float}`` in the order shown. ``reason`` kinds: ``bought``,
    ``liked`` (item-to-item from that product), ``affinity`` (a profile interest: ``dimension``
    and ``value`` are set), ``popular`` (popular in the product's category).
    """

    class Mode(models.TextChoices):
        PERSONAL = "personal", "Personalized"
        POPULAR = "popular", "Popular (no profile yet)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="pick_decisions", on_delete=models.CASCADE
    )
    mode = models.CharField(max_length=10, choices=Mode.choices)
    strategy = models.CharField(max_length=120, help_text="The recommender that chose the picks.")
    picks = models.JSONField(default=list)
    data_used = models.JSONField(
        default=list, help_text="What the choice read: purchases, likes, interests."
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at", "-pk"]
        indexes = [models.Index(fields=["user", "-decided_at"], name="pick_decision_user_time")]

    def __str__(self):
        return f"Picks for {self.user_id} at {self.decided_at:%Y-%m-%d %H:%M}"
