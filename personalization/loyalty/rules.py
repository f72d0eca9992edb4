"""Coupon rules as data, behaviour as small strategy classes chosen by type.

A coupon's ``conditions`` is a list of ``{"type": <condition type>, ...params}``; its benefit is
``benefit_type`` + ``benefit_value``. As in django-oscar's ``offer/conditions.py`` and
``offer/benefits.py``, each type is a class; add one with ``register_condition`` /
``register_benefit`` and it is available to coupons, earn rules and the admin.

Conditions answer three things: does the order fail me (the message in words, or None), which
lines may be discounted (``eligible``), and what I ask for in words (``describe``).
Benefits turn the eligible lines' remaining amounts into exact (unrounded) discounts per line;
``shop.pricing`` rounds once, to cents, over all discounts of the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shop.pricing import PricedLine, PricingContext
from shop.templatetags.shop_tags import money


@dataclass
class CouponContext:
    """The order as coupons see it. ``tier_position`` is the shopper's tier position (-1: none);
    ``previous_orders`` counts the shopper's earlier orders that were not cancelled/refunded."""

    pricing: PricingContext
    tier_position: int
    previous_orders: int


class Condition:
    type = ""
    label = ""

    def failure(self, ctx: CouponContext, params: dict) -> str | None:
        return None

    def eligible(self, line: PricedLine, params: dict) -> bool:
        return True

    def describe(self, params: dict) -> str:
        raise NotImplementedError  # every condition says what it asks for

    def validate(self, params: dict) -> dict:
        """Clean params or raise ValueError with a message for staff."""
        return params


class MinSubtotal(Condition):
    type = "min_subtotal"
    label = "Minimum order"

    def validate(self, params):
        try:
            amount = Decimal(str(params.get("amount", ""))).quantize(Decimal("0.01"))
        except ArithmeticError:
            raise ValueError("The minimum order must be an amount in euros.") from None
        if amount <= 0:
            raise ValueError("The minimum order must be above zero.")
        return {"amount": str(amount)}

    def failure(self, ctx, params):
        amount = Decimal(params["amount"])
        if ctx.pricing.subtotal < amount:
            return (
                f"This code needs an order of at least {money(amount)} "
                f"(your items come to {money(ctx.pricing.subtotal)})."
            )
        return None

    def describe(self, params):
        return f"on orders of {money(Decimal(params['amount']))} or more"


class InCategories(Condition):
    type = "categories"
    label = "Only products of these categories (or their subcategories)"

    def validate(self, params):
        ids = [int(x) for x in params.get("ids", [])]
        if not ids:
            raise ValueError("Choose at least one category.")
        return {"ids": ids, "names": list(params.get("names", []))}

    def eligible(self, line, params):
        ids = set(params["ids"])
        return line.category_id in ids or line.parent_category_id in ids

    def failure(self, ctx, params):
        if not any(self.eligible(line, params) for line in ctx.pricing.lines):
            return f"This code is only for {_names(params, 'these categories')} products."
        return None

    def describe(self, params):
        return f"on {_names(params, 'selected categories')} products"


class InProducts(Condition):
    type = "products"
    label = "Only these products"

    def validate(self, params):
        ids = [int(x) for x in params.get("ids", [])]
        if not ids:
            raise ValueError("Choose at least one product.")
        return {"ids": ids, "names": list(params.get("names", []))}

    def eligible(self, line, params):
        return line.product_id in set(params["ids"])

    def failure(self, ctx, params):
        if not any(self.eligible(line, params) for line in ctx.pricing.lines):
            return f"This code is only for {_names(params, 'selected products')}."
        return None

    def describe(self, params):
        return f"on {_names(params, 'selected products')}"


class FirstOrder(Condition):
    type = "first_order"
    label = "First order only"

    def failure(self, ctx, params):
        if ctx.previous_orders > 0:
            return "This code is only for a first order."
        return None

    def describe(self, params):
        return "on your first order"


class MinTier(Condition):
    type = "tier"
    label = "Members of this tier or above"

    def validate(self, params):
        from .models import Tier

        tier = Tier.objects.filter(slug=params.get("slug", "")).first()
        if tier is None:
            raise ValueError("Choose a tier.")
        return {"slug": tier.slug, "name": tier.name, "position": tier.position}

    def failure(self, ctx, params):
        if ctx.tier_position < int(params["position"]):
            return f"This code is for {params['name']} members and above."
        return None

    def describe(self, params):
        return f"for {params['name']} members and above"


def _names(params: dict, fallback: str) -> str:
    names = [str(n) for n in params.get("names", []) if str(n)]
    if not names:
        return fallback
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


class Benefit:
    type = ""
    on_shipping = False

    def amounts(self, remaining: list[Decimal], value: Decimal) -> list[Decimal]:
        """Exact discount per eligible line, each at most that line's remaining amount."""
        raise NotImplementedError  # every goods benefit computes its amounts

    def describe(self, value: Decimal) -> str:
        raise NotImplementedError  # every benefit says what it gives


class PercentageOff(Benefit):
    type = "percentage"

    def amounts(self, remaining, value):
        rate = Decimal(value) / Decimal(100)
        return [r * rate for r in remaining]

    def describe(self, value):
        return f"{Decimal(value).normalize():f}% off"


class FixedOff(Benefit):
    type = "fixed"

    def amounts(self, remaining, value):
        """Spread over the eligible lines in proportion to what is left of each."""
        base = sum(remaining, Decimal(0))
        if base <= 0:
            return [Decimal(0) for _ in remaining]
        take = min(Decimal(value), base)
        return [r * take / base for r in remaining]

    def describe(self, value):
        return f"{money(value)} off"


class FreeShipping(Benefit):
    type = "free_shipping"
    on_shipping = True

    def amounts(self, remaining, value):
        return [Decimal(0) for _ in remaining]

    def describe(self, value):
        return "free shipping"


CONDITIONS: dict[str, Condition] = {}
BENEFITS: dict[str, Benefit] = {}


def register_condition(cls: type[Condition]) -> type[Condition]:
    CONDITIONS[cls.type] = cls()
    return cls


def register_benefit(cls: type[Benefit]) -> type[Benefit]:
    BENEFITS[cls.type] = cls()
    return cls


for _cls in (MinSubtotal, InCategories, InProducts, FirstOrder, MinTier):
    register_condition(_cls)
for _cls in (PercentageOff, FixedOff, FreeShipping):
    register_benefit(_cls)


def benefit_problem(benefit_type: str, value) -> str:
    """Why a benefit gives nothing or too much ("" when it is fine): a percentage or an amount
    off must be above zero (a zero-value coupon would only ever take €0.00 off) and a
    percentage at most 100. Free shipping takes no value. Used by ``coupon_issue``, the coupon
    form and ``EarnRule.clean``, so the admin, the API and the earn rules refuse alike."""
    benefit = BENEFITS.get(benefit_type)
    if benefit is None:
        return f"Unknown benefit {benefit_type!r}."
    if benefit.on_shipping:
        return ""
    value = Decimal(value if value not in (None, "") else 0)
    if value <= 0:
        return "A percentage or an amount off must be more than zero."
    if benefit_type == "percentage" and value > 100:
        return "A percentage off is at most 100."
    return ""


def condition(params: dict) -> Condition:
    try:
        return CONDITIONS[params["type"]]
    except KeyError:
        raise ValueError(f"Unknown condition type {params.get('type')!r}.") from None


def clean_conditions(conditions: list[dict]) -> list[dict]:
    """Validated conditions (raises ValueError with a message for staff)."""
    return [{"type": c["type"], **condition(c).validate(c)} for c in conditions]


def describe_coupon(coupon) -> str:
    """ "10% off on Kitchen products, on orders of €30.00 or more"."""
    parts = [BENEFITS[coupon.benefit_type].describe(coupon.benefit_value)]
    parts += [condition(c).describe(c) for c in coupon.conditions or []]
    return ", ".join(parts)
