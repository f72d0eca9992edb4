"""Loyalty tiers, coupons and their redemptions.

Invariants kept by the database:
- a coupon is never used more often than ``max_uses`` (CheckConstraint, and every use is a
  conditional UPDATE under the coupon's row lock);
- a shopper's uses of a coupon are one counter row per (coupon, shopper) (unique), raised by a
  conditional UPDATE that refuses past ``max_uses_per_shopper``;
- an earned coupon is issued at most once per shopper, trigger and occasion (unique), however
  often the trigger task runs or is retried;
- a coupon belongs to one order at most once (unique redemption per coupon and order).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Tier(models.Model):
    """A loyalty level reached by net spend over the last 12 months and by order count."""

    name = models.CharField(max_length=40)
    slug = models.SlugField(max_length=40, unique=True)
    position = models.PositiveSmallIntegerField(
        unique=True, help_text="Higher is better; the lowest tier may need nothing."
    )
    min_spend = models.DecimalField(
        "net spend in 12 months at least",
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
    )
    min_orders = models.PositiveIntegerField("orders in 12 months at least", default=0)
    benefits = models.TextField(blank=True, help_text="What members get, in the shopper's words.")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(condition=Q(min_spend__gte=0), name="tier_spend_not_negative")
        ]

    def __str__(self):
        return self.name


class LoyaltyStatus(models.Model):
    """A shopper's loyalty figures, refreshed by ``loyalty_refresh`` (set-based) and after each
    order, cancellation or refund. Spend is net: goods minus discounts, cancelled and refunded
    orders excluded."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        related_name="loyalty_status",
        on_delete=models.CASCADE,
    )
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL)
    spend_12m = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    orders_12m = models.PositiveIntegerField(default=0)
    spend_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    orders_total = models.PositiveIntegerField(default=0)
    oldest_in_window_at = models.DateTimeField(
        null=True, blank=True, help_text="The oldest order still counted in the 12 months."
    )
    last_order_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "loyalty statuses"
        indexes = [models.Index(fields=["last_order_at"], name="loyalty_last_order")]

    def __str__(self):
        return f"{self.user_id}: {self.tier or 'no tier'}"


class BenefitType(models.TextChoices):
    PERCENTAGE = "percentage", "Percentage off"
    FIXED = "fixed", "Fixed amount off"
    FREE_SHIPPING = "free_shipping", "Free shipping"


class Trigger(models.TextChoices):
    """Why a coupon exists. The first group is earned (the trigger task issues them)."""

    TIER_REACHED = "tier_reached", "Tier reached"
    NTH_ORDER = "nth_order", "Nth order"
    SPEND_THRESHOLD = "spend_threshold", "Spend threshold"
    BIRTHDAY = "birthday", "Birthday"
    WIN_BACK = "win_back", "Win-back"
    REPLACEMENT_INTENT = "replacement_intent", "Replacement intent in own text"
    STAFF = "staff", "Issued by staff"
    PUBLIC = "public", "Public code"
    BULK = "bulk", "Generated in bulk"


EARNED = [
    Trigger.TIER_REACHED,
    Trigger.NTH_ORDER,
    Trigger.SPEND_THRESHOLD,
    Trigger.BIRTHDAY,
    Trigger.WIN_BACK,
    Trigger.REPLACEMENT_INTENT,
]


class EarnRule(models.Model):
    """When the trigger task gives a coupon, and which: trigger + its parameter + the benefit.

    ``threshold`` means: the order number (nth_order), the net spend in € (spend_threshold), the
    days without an order (win_back), the days before the birthday to issue (birthday), the days
    a post may be old (replacement_intent); unused for tier_reached (``tier`` instead).
    """

    name = models.CharField(max_length=80)
    trigger = models.CharField(max_length=20, choices=[(t.value, t.label) for t in EARNED])
    threshold = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.CASCADE)
    benefit_type = models.CharField(max_length=20, choices=BenefitType.choices)
    benefit_value = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    min_subtotal = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, help_text="Minimum order, €."
    )
    valid_days = models.PositiveIntegerField(default=30)
    combinable = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["trigger", "threshold"]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        from .rules import benefit_problem

        problem = benefit_problem(self.benefit_type, self.benefit_value)
        if self.benefit_type and problem:
            raise ValidationError({"benefit_value": problem})


class CouponQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return (
            self.filter(revoked_at=None, valid_from__lte=now)
            .filter(Q(valid_until=None) | Q(valid_until__gt=now))
            .filter(Q(max_uses=None) | Q(uses__lt=F("max_uses")))
        )


class Coupon(models.Model):
    """A code with a rule: conditions (a list of ``{"type": ..., ...}``, see ``rules.py``), one
    benefit, validity, usage limits, and why it exists (``reason``, shown to the shopper)."""

    class Kind(models.TextChoices):
        SINGLE = "single", "Single (one shopper)"
        SHARED = "shared", "Shared (public code)"
        BULK = "bulk", "Generated in bulk"

    # unique by the constraint below: a unique field would add a second, LIKE-only index that
    # no lookup uses (codes are found by equality) and every issued coupon pays for
    code = models.CharField(max_length=40)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SINGLE)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="coupons",
        on_delete=models.CASCADE,
        db_index=False,  # (owner, -created_at) below serves every lookup by owner
        help_text="Single codes: the only shopper who may use it.",
    )
    benefit_type = models.CharField(max_length=20, choices=BenefitType.choices)
    benefit_value = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Percent for a percentage, euros for a fixed amount; unused for free shipping.",
    )
    conditions = models.JSONField(default=list, blank=True)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    max_uses_per_shopper = models.PositiveIntegerField(null=True, blank=True, default=1)
    uses = models.PositiveIntegerField(default=0, editable=False)
    combinable = models.BooleanField(default=False, help_text="May be used with other codes.")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    occasion = models.CharField(
        max_length=120, blank=True, help_text="What earned it (unique per shopper and trigger)."
    )
    earn_rule = models.ForeignKey(EarnRule, null=True, blank=True, on_delete=models.SET_NULL)
    reason = models.CharField(max_length=255, help_text="Why the shopper has it, in their words.")
    facts = models.JSONField(
        default=dict, blank=True, help_text="What matched when it was issued (the decision)."
    )
    batch = models.CharField(max_length=40, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        db_index=False,  # partial index below: earned coupons (most of them) have none
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CouponQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="coupon_code_unique"),
            models.UniqueConstraint(
                fields=["owner", "trigger", "occasion"],
                condition=~Q(occasion=""),
                name="coupon_once_per_occasion",
            ),
            models.CheckConstraint(
                condition=Q(max_uses=None) | Q(uses__lte=F("max_uses")),
                name="coupon_uses_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(benefit_value__gte=0)
                & (~Q(benefit_type="percentage") | Q(benefit_value__lte=100)),
                name="coupon_benefit_in_range",
            ),
            models.CheckConstraint(
                condition=~Q(kind="single") | Q(owner__isnull=False),
                name="coupon_single_has_owner",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="coupon_owner_recent"),
            models.Index(
                fields=["issued_by"],
                condition=Q(issued_by__isnull=False),
                name="coupon_issued_by",
            ),
        ]

    def __str__(self):
        return self.code

    @property
    def is_earned(self) -> bool:
        return self.trigger in EARNED


class CouponUsage(models.Model):
    """How often one shopper (``user:<id>`` or, for guests, ``email:<address>``) used a coupon."""

    coupon = models.ForeignKey(Coupon, related_name="usages", on_delete=models.CASCADE)
    shopper_key = models.CharField(max_length=260)
    uses = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["coupon", "shopper_key"], name="one_usage_per_shopper")
        ]

    def __str__(self):
        return f"{self.coupon_id} × {self.uses} by {self.shopper_key}"


class CouponRedemption(models.Model):
    """A coupon used on an order (written in the order's transaction)."""

    coupon = models.ForeignKey(Coupon, related_name="redemptions", on_delete=models.PROTECT)
    order = models.ForeignKey("shop.Order", related_name="+", on_delete=models.CASCADE)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="coupon_redemptions",
        on_delete=models.SET_NULL,
    )
    shopper_key = models.CharField(max_length=260)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the order was cancelled or refunded and the coupon's use given back.",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["coupon", "order"], name="one_redemption_per_order")
        ]

    def __str__(self):
        return f"{self.coupon_id} on order {self.order_id}"
