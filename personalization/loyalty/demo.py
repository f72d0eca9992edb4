"""Demo data: tiers with members, earn rules, earned coupons of several kinds, a public code."""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

SCHEDULES = [
    {
        "name": "loyalty: issue earned coupons",
        "task": "personalization.loyalty.tasks.issue_loyalty_coupons",
        "interval": {"every": 1, "period": "hours"},
        "description": "Refreshes tiers and issues earned coupons "
        "(each at most once per occasion).",
    },
]


def _ensure_schedule() -> int:
    from config.beat import ensure_periodic_tasks

    return ensure_periodic_tasks(SCHEDULES)


RULES = [
    # name, trigger, threshold, tier slug, benefit, value, min order, days, combinable
    ("Welcome to Silver", "tier_reached", 0, "silver", "free_shipping", 0, None, 60, True),
    ("Welcome to Gold", "tier_reached", 0, "gold", "percentage", 15, None, 60, False),
    ("Thanks for 3 orders", "nth_order", 3, None, "fixed", 5, "30.00", 45, False),
    ("Thanks for 5 orders", "nth_order", 5, None, "percentage", 10, None, 45, False),
    ("€500 spent", "spend_threshold", 500, None, "fixed", 20, "80.00", 60, False),
    ("Birthday treat", "birthday", 7, None, "percentage", 20, None, 30, False),
    ("We miss you", "win_back", 90, None, "percentage", 10, "25.00", 30, False),
    ("Replacement offer", "replacement_intent", 60, None, "percentage", 15, None, 30, False),
]


def seed(*, stdout) -> None:
    from .models import Coupon, EarnRule, Tier
    from .services import coupon_issue, coupons_issue_earned, tiers_ensure_defaults

    tiers = tiers_ensure_defaults()
    rules = 0
    for name, trigger, threshold, tier, benefit, value, minimum, days, combinable in RULES:
        _, created = EarnRule.objects.get_or_create(
            name=name,
            defaults={
                "trigger": trigger,
                "threshold": Decimal(threshold),
                "tier": Tier.objects.filter(slug=tier).first() if tier else None,
                "benefit_type": benefit,
                "benefit_value": Decimal(value),
                "min_subtotal": Decimal(minimum) if minimum else None,
                "valid_days": days,
                "combinable": combinable,
            },
        )
        rules += created
    public = 0
    if not Coupon.objects.filter(code="WELCOME10").exists():
        coupon_issue(
            code="WELCOME10",
            kind=Coupon.Kind.SHARED,
            reason="Our welcome offer for a first order",
            benefit_type="percentage",
            benefit_value=Decimal("10"),
            conditions=[{"type": "first_order"}, {"type": "min_subtotal", "amount": "20.00"}],
            valid_until=timezone.now() + timedelta(days=365),
            max_uses=None,
            max_uses_per_shopper=1,
            trigger="public",
        )
        public += 1
    if not Coupon.objects.filter(code="FREESHIP").exists():
        coupon_issue(
            code="FREESHIP",
            kind=Coupon.Kind.SHARED,
            reason="Free shipping this season on orders from €30",
            benefit_type="free_shipping",
            conditions=[{"type": "min_subtotal", "amount": "30.00"}],
            valid_until=timezone.now() + timedelta(days=90),
            max_uses=500,
            max_uses_per_shopper=2,
            combinable=True,
            trigger="public",
        )
        public += 1
    staff_issued = 0
    shopper = get_user_model().objects.filter(email="shopper01@agora.test").first()
    if shopper and not Coupon.objects.filter(owner=shopper, trigger="staff").exists():
        coupon_issue(
            owner=shopper,
            reason="Sorry your parcel arrived late; this one is on us",
            benefit_type="fixed",
            benefit_value=Decimal("10.00"),
            valid_until=timezone.now() + timedelta(days=60),
            issued_by=get_user_model().objects.filter(is_superuser=True).first(),
        )
        staff_issued += 1
    result = coupons_issue_earned()
    schedules = _ensure_schedule()
    stdout.write(
        f"loyalty: {tiers} tiers, {rules} earn rules, {public} public codes, {staff_issued} "
        f"staff coupon, {result.issued} earned coupons issued "
        f"({result.held_by_cap} held by the monthly cap), {schedules} schedule"
    )
