"""Coupons at the till: the discount provider the shop's pricing calls (``CouponDiscounts``).

Pricing a cart reads coupons without locks (the cart and checkout pages). Inside
``shop.checkout.order_place`` the context has ``lock=True``: the coupons entered are locked
(``SELECT ... FOR UPDATE`` in primary-key order, after the variants, so checkouts never
deadlock) and checked against their current use counts; ``record`` then consumes one use with a
conditional UPDATE (``uses < max_uses``) and one per-shopper use with another (``uses <
max_uses_per_shopper`` on the unique (coupon, shopper) counter row). All of it is in the order's
transaction: a declined payment rolls the use back, so the coupon is free again.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format

from shop.exceptions import CodeNotApplicable
from shop.pricing import CodeProblem, Discount, PricingContext

from . import rules
from .models import Coupon, CouponRedemption, CouponUsage

CANCELLED = ("cancelled", "refunded")


def shopper_key(user, email: str) -> str:
    """Who counts as the same shopper for per-shopper limits: the account, else the email."""
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return f"email:{(email or '').strip().lower()}" if email else ""


def _day(value) -> str:
    return date_format(timezone.localtime(value), "j F Y")


def coupon_problem(coupon: Coupon | None, *, code: str, user, key: str, used: int, now) -> str:
    """Why ``coupon`` cannot be used now by this shopper, in words; "" when it can (conditions
    on the order itself are checked separately)."""
    if coupon is None:
        return f"There is no code {code}. Please check the spelling."
    if coupon.revoked_at is not None:
        why = f": {coupon.revoked_reason}" if coupon.revoked_reason else ""
        return f"This code was withdrawn{why}."
    if coupon.valid_from > now:
        return f"This code is valid from {_day(coupon.valid_from)}."
    if coupon.valid_until is not None and coupon.valid_until <= now:
        return f"This code expired on {_day(coupon.valid_until)}."
    if coupon.owner_id is not None:
        if user is None or not getattr(user, "is_authenticated", False):
            return "This code is personal: please sign in to use it."
        if coupon.owner_id != user.pk:
            return "This code belongs to another shopper's account."
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        return "This code has been used up."
    limit = coupon.max_uses_per_shopper
    if limit is not None and used >= limit:
        if limit == 1:
            return "You have already used this code."
        return f"You have already used this code the {limit} times it allows."
    return ""


class CouponDiscounts:
    """The shop's discount provider for coupon codes (registered in LoyaltyConfig.ready())."""

    def discounts(self, context: PricingContext):
        codes = [c for c in dict.fromkeys(context.codes) if c]
        if not codes:
            return [], []
        queryset = Coupon.objects.filter(code__in=codes).order_by("pk")
        if context.lock:
            queryset = queryset.select_for_update()
        by_code = {c.code: c for c in queryset}
        key = shopper_key(context.user, context.email)
        used = (
            dict(
                CouponUsage.objects.filter(
                    coupon__in=list(by_code.values()), shopper_key=key
                ).values_list("coupon_id", "uses")
            )
            if key
            else {}
        )
        ctx = rules.CouponContext(
            pricing=context,
            tier_position=_tier_position(context.user),
            previous_orders=_previous_orders(context.user, context.email),
        )
        now = timezone.now()
        remaining = [line.line_total for line in context.lines]
        accepted: list[Coupon] = []
        found: list[Discount] = []
        problems: list[CodeProblem] = []
        for code in codes:
            coupon = by_code.get(code)
            problem = coupon_problem(
                coupon,
                code=code,
                user=context.user,
                key=key,
                used=used.get(coupon.pk, 0) if coupon else 0,
                now=now,
            )
            if not problem:
                for params in coupon.conditions or []:
                    problem = rules.condition(params).failure(ctx, params) or ""
                    if problem:
                        break
            if not problem and accepted:
                other = next(
                    (a for a in accepted if not (a.combinable and coupon.combinable)), None
                )
                if other is not None:
                    problem = f"This code cannot be combined with {other.code}."
            if problem:
                problems.append(CodeProblem(code=code, message=problem))
                continue
            accepted.append(coupon)
            benefit = rules.BENEFITS[coupon.benefit_type]
            label = rules.describe_coupon(coupon)
            if benefit.on_shipping:
                found.append(
                    Discount(
                        code=code,
                        label=label,
                        amount=Decimal(0),
                        on_shipping=True,
                        reference=coupon.pk,
                    )
                )
                continue
            eligible = [
                i
                for i, line in enumerate(context.lines)
                if all(rules.condition(p).eligible(line, p) for p in coupon.conditions or [])
            ]
            amounts = benefit.amounts([remaining[i] for i in eligible], coupon.benefit_value)
            for i, amount in zip(eligible, amounts, strict=True):
                remaining[i] -= min(amount, remaining[i])
            exact = sum(amounts, Decimal(0))
            found.append(
                Discount(code=code, label=label, amount=exact, exact=exact, reference=coupon.pk)
            )
        return found, problems

    def record(self, *, order, discounts, context: PricingContext) -> None:
        """Consume one use of each coupon on ``order`` (conditional UPDATEs) and write the
        redemption rows; raises CodeNotApplicable if a limit was reached meanwhile. A coupon
        that took nothing off this order (free shipping on an order that ships free anyway, a
        percentage of a few cents that rounds to €0.00) is not consumed: the shopper keeps it."""
        from personalization import events

        key = shopper_key(context.user, context.email)
        discounts = [d for d in discounts if d.reference is not None and d.amount > 0]
        for discount in discounts:
            coupon_id = discount.reference
            taken = (
                Coupon.objects.filter(pk=coupon_id)
                .filter(Q(max_uses=None) | Q(uses__lt=F("max_uses")))
                .update(uses=F("uses") + 1)
            )
            if not taken:
                raise CodeNotApplicable(f"The code {discount.code} has been used up.")
            coupon = Coupon.objects.only("max_uses_per_shopper").get(pk=coupon_id)
            if key:
                CouponUsage.objects.bulk_create(
                    [CouponUsage(coupon_id=coupon_id, shopper_key=key, uses=0)],
                    ignore_conflicts=True,
                )
                usage = CouponUsage.objects.filter(coupon_id=coupon_id, shopper_key=key)
                if coupon.max_uses_per_shopper is not None:
                    usage = usage.filter(uses__lt=coupon.max_uses_per_shopper)
                if not usage.update(uses=F("uses") + 1):
                    raise CodeNotApplicable(f"You have already used the code {discount.code}.")
            CouponRedemption.objects.create(
                coupon_id=coupon_id,
                order=order,
                user=order.user,
                shopper_key=key,
                amount=discount.amount,
                created_at=order.created_at,
            )
            events.record(
                events.Event.Kind.COUPON_REDEEMED,
                user=order.user,
                value=discount.amount,
                occurred_at=order.created_at,
                code=discount.code,
                order=order.number,
            )
        from .hooks import coupon_redeemed

        coupon_redeemed(order=order, discounts=discounts)


def _tier_position(user) -> int:
    if user is None or not getattr(user, "is_authenticated", False):
        return -1
    from .models import LoyaltyStatus

    status = LoyaltyStatus.objects.filter(user=user).select_related("tier").first()
    return status.tier.position if status and status.tier else -1


def _previous_orders(user, email: str) -> int:
    from shop.models import Order

    if user is not None and getattr(user, "is_authenticated", False):
        orders = Order.objects.filter(user=user)
    elif email:
        orders = Order.objects.filter(email__iexact=email)
    else:
        return 0
    return orders.exclude(status__in=CANCELLED).count()
