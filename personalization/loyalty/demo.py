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
    gold = _seed_gold_shopper()
    birthday = _seed_birthday_shopper(exclude=gold)
    result = coupons_issue_earned()
    schedules = _ensure_schedule()
    stdout.write(
        f"loyalty: {tiers} tiers, {rules} earn rules, {public} public codes, {staff_issued} "
        f"staff coupon, {result.issued} earned coupons issued "
        f"({result.held_by_cap} held by the monthly cap), {schedules} schedule; "
        f"Gold: {gold.email if gold else '-'}, birthday this week: "
        f"{birthday.email if birthday else '-'}"
    )


def _seed_gold_shopper():
    """shopper04 shops enough in the last 12 months to reach Gold (placed through checkout)."""
    from shop.cart import cart_add
    from shop.checkout import Address, order_place
    from shop.models import Cart, Product, ShippingMethod
    from shop.payments import Card

    from .models import LoyaltyStatus, Tier
    from .services import loyalty_refresh

    user = get_user_model().objects.filter(email="shopper04@agora.test").first()
    gold = Tier.objects.filter(slug="gold").first()
    shipping = ShippingMethod.objects.filter(code="standard").first()
    if user is None or gold is None or shipping is None:
        return None
    loyalty_refresh(user_ids=[user.pk])
    products = list(
        Product.objects.filter(variants__stock__gt=5, price__gte=Decimal("40"))
        .distinct()
        .order_by("-price", "pk")[:10]
    )
    card = Card(number="4242424242424242", expiry_month=12, expiry_year=2035, cvc="123")
    now = timezone.now()
    for step in range(12):
        status = LoyaltyStatus.objects.filter(user=user).only("tier_id").first()
        if (status and status.tier_id == gold.pk) or not products:
            break
        cart, _ = Cart.objects.get_or_create(user=user)
        product = products[step % len(products)]
        cart_add(cart=cart, variant_id=product.variants.filter(stock__gt=5).first().pk, quantity=2)
        order_place(
            cart=cart,
            user=user,
            email=user.email,
            address=Address(
                full_name=user.get_full_name() or user.username,
                line1="4 Market Street",
                city="Berlin",
                postcode="10115",
                country="DE",
            ),
            shipping_method=shipping,
            card=card,
            notify=False,
            placed_at=now - timedelta(days=10 + step * 20),
        )
    return user


def _seed_birthday_shopper(*, exclude=None):
    """shopper05 shares their birthday on the permission screen; it is in three days, so the
    "Birthday treat" rule issues them a coupon that says why."""
    from social.models import ConsentRecord
    from social.services import consent_apply_sign_in

    user = get_user_model().objects.filter(email="shopper05@agora.test").first()
    if user is None or user == exclude:
        return None
    if not ConsentRecord.objects.filter(user=user, category="birthday").exists():
        from .settings import local_today

        soon = local_today(timezone.now()) + timedelta(days=3)
        consent_apply_sign_in(
            user=user,
            provider="friendbook",
            granted=["birthday"],
            profile={"birthday_month": soon.month, "birthday_day": soon.day},
        )
    return user
