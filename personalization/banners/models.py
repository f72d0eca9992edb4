"""Targeted banners: creative per A/B variant, placement, targeting, schedule, and decisions.

A ``BannerDecision`` is written for every banner shown: which variant, for whom, and why (the
segment and the rule path that matched, in plain words). Impressions and clicks per variant are
counters folded in from the decisions by a task (see ``services.banner_decisions_flush``).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Placement(models.TextChoices):
    HOME_HERO = "home_hero", "Home page hero"
    CATEGORY = "category", "Category page"
    PRODUCT = "product", "Product page"
    CART = "cart", "Cart"
    ACCOUNT = "account", "Account pages"


class Banner(models.Model):
    name = models.CharField(max_length=120)
    placement = models.CharField(max_length=20, choices=Placement.choices)
    segments = models.ManyToManyField(
        "segments.Segment",
        blank=True,
        related_name="banners",
        help_text="Shown only to members of any of these segments; none = everyone.",
    )
    categories = models.ManyToManyField(
        "shop.Category",
        blank=True,
        related_name="+",
        help_text="Category and product pages: shown while browsing these (anonymous too).",
    )
    priority = models.IntegerField(default=0, help_text="Higher wins among eligible banners.")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    frequency_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="At most this many views per shopper per cap window."
    )
    cap_window_hours = models.PositiveIntegerField(default=24)
    winner_picked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["placement", "-priority", "pk"]

    def __str__(self):
        return f"{self.name} ({self.get_placement_display()})"


class BannerVariant(models.Model):
    #: What staff write on a variant, in form order: the admin's variant form, the API's
    #: variant serializer and ``services.banner_save`` (all but the image, uploaded on its own).
    CREATIVE_FIELDS = (
        "name",
        "is_control",
        "weight",
        "headline",
        "text",
        "image",
        "alt_text",
        "cta_label",
        "cta_url",
    )

    banner = models.ForeignKey(Banner, related_name="variants", on_delete=models.CASCADE)
    name = models.CharField(max_length=40, default="A")
    is_control = models.BooleanField(default=False)
    weight = models.PositiveIntegerField(default=50, help_text="Share of traffic (relative).")
    headline = models.CharField(max_length=120)
    text = models.CharField(max_length=300, blank=True)
    image = models.ImageField(upload_to="banners/", blank=True)
    alt_text = models.CharField(max_length=200, blank=True)
    cta_label = models.CharField("call to action", max_length=40, default="Shop now")
    cta_url = models.CharField(max_length=300, default="/products/")
    impressions = models.PositiveBigIntegerField(default=0)
    clicks = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["banner", "pk"]

    def __str__(self):
        return f"{self.banner.name} / {self.name}"

    #: The one page of a placement shown on a single page: a call to action there must lead
    #: elsewhere (pages of the other placements are checked when shown: ``leads_here``).
    PLACEMENT_PAGE = {Placement.HOME_HERO: "shop:home", Placement.CART: "shop:cart"}

    def clean(self):
        super().clean()
        from django.core.exceptions import ValidationError
        from django.urls import reverse

        from .selectors import leads_here

        banner = getattr(self, "banner", None)
        page = self.PLACEMENT_PAGE.get(banner.placement) if banner is not None else None
        if page and self.cta_url and leads_here(self.cta_url, reverse(page)):
            raise ValidationError(
                {"cta_url": "This link leads back to the page the banner is shown on."}
            )

    @property
    def ctr(self) -> float | None:
        return self.clicks / self.impressions if self.impressions else None


class BannerDecision(models.Model):
    """One banner shown to one shopper, and why (stored when chosen, shown on the why page)."""

    class Reason(models.TextChoices):
        SEGMENT = "segment", "Segment"
        BROWSING = "browsing", "Browsing a category"
        EVERYONE = "everyone", "Shown to everyone"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="banner_decisions",
        on_delete=models.CASCADE,
    )
    visitor = models.CharField(max_length=64, blank=True, help_text="Anonymous session id.")
    banner = models.ForeignKey(Banner, related_name="decisions", on_delete=models.CASCADE)
    variant = models.ForeignKey(BannerVariant, related_name="decisions", on_delete=models.CASCADE)
    placement = models.CharField(max_length=20, choices=Placement.choices)
    reason = models.CharField(max_length=10, choices=Reason.choices)
    segment = models.ForeignKey(
        "segments.Segment", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    segment_version = models.PositiveIntegerField(null=True, blank=True)
    category = models.ForeignKey(
        "shop.Category", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    rule_path = models.JSONField(
        default=list, blank=True, help_text="[{path, type, explain}] of the rules that matched."
    )
    explanation = models.JSONField(default=list, blank=True, help_text="Plain-word reasons.")
    chosen_at = models.DateTimeField(default=timezone.now)
    clicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-chosen_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-chosen_at"], name="banner_decision_user_time"),
            models.Index(fields=["variant", "clicked_at"], name="banner_decision_clicks"),
        ]

    def __str__(self):
        return f"{self.banner_id}/{self.variant_id} for {self.user_id or self.visitor}"
