"""The event log: one append-only row per meaningful act of a shopper.

Preference profiles, segments and the CRM timeline are built from these rows by tasks.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Event(models.Model):
    class Kind(models.TextChoices):
        VIEW = "view", "Viewed a product"
        SEARCH = "search", "Searched"
        ADD_TO_CART = "add_to_cart", "Added to cart"
        PURCHASE = "purchase", "Purchased"
        LIKE = "like", "Liked"
        SHARE = "share", "Shared"
        REVIEW = "review", "Reviewed"
        FORUM_POST = "forum_post", "Posted in the forum"
        TEXT_SIGNAL = "text_signal", "Text signal"
        COUPON_REDEEMED = "coupon_redeemed", "Redeemed a coupon"
        EMAIL_OPEN = "email_open", "Opened an email"
        EMAIL_CLICK = "email_click", "Clicked an email"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="events",
        on_delete=models.CASCADE,
    )
    session_key = models.CharField(max_length=64, blank=True, db_index=True)
    product = models.ForeignKey(
        "shop.Product", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    attributes = models.JSONField(default=dict, blank=True)
    value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-occurred_at"], name="event_user_time"),
            models.Index(fields=["kind", "-occurred_at"], name="event_kind_time"),
        ]

    def __str__(self):
        who = self.user_id or self.session_key
        return f"{self.kind} by {who} at {self.occurred_at:%Y-%m-%d %H:%M}"
