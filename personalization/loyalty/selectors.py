"""Read side of loyalty: the "My rewards" page, coupons of a shopper."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from . import rules
from . import settings as loyalty_settings
from .models import Coupon, LoyaltyStatus, Tier


@dataclass
class NextTier:
    tier: Tier
    spend_needed: Decimal
    orders_needed: int
    by: object  # a date: spend this before it and nothing drops out of the 12 months


@dataclass
class CouponView:
    coupon: Coupon
    description: str
    state: str  # "usable", "used", "expired", "withdrawn", "not yet valid"


@dataclass
class Rewards:
    status: LoyaltyStatus | None
    tier: Tier | None
    next: NextTier | None
    tiers: list[Tier]
    coupons: list[CouponView]
    zone: object = None  # the shopper's ZoneInfo: dates on the page are theirs


def coupons_for(user) -> QuerySet[Coupon]:
    return Coupon.objects.filter(owner=user).order_by("-created_at", "-pk")


def _state(coupon: Coupon, now) -> str:
    if coupon.revoked_at is not None:
        return "withdrawn"
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        return "used"
    if coupon.valid_until is not None and coupon.valid_until <= now:
        return "expired"
    if coupon.valid_from > now:
        return "not yet valid"
    return "usable"


def _status_with_zone(user) -> LoyaltyStatus | None:
    """The shopper's figures with their tier and, as ``own_zone``, the time zone of their email
    preferences ("" when none): one query."""
    from django.apps import apps
    from django.db.models import OuterRef, Subquery, Value

    zone = Value("")
    if apps.is_installed("personalization.outreach"):
        subscriber = apps.get_model("outreach", "Subscriber")
        zone = Subquery(
            subscriber.objects.filter(user_id=OuterRef("user_id")).values("time_zone")[:1]
        )
    return (
        LoyaltyStatus.objects.select_related("tier")
        .annotate(own_zone=zone)
        .filter(user=user)
        .first()
    )


def rewards_for(user, *, now=None) -> Rewards:
    """Everything "My rewards" shows, in three queries whatever the number of coupons and tiers:
    the status with its tier and the shopper's own time zone, the tiers, the coupons (the 100
    newest, usable first). A shopper without figures yet (no order) costs one more, for their
    zone (``zone``: the page shows its dates in it). ``next.by`` is the last day the oldest
    order still counted stays in the 12 months, in the shopper's zone: reach the next tier by
    then and nothing drops out."""
    now = now or timezone.now()
    status = _status_with_zone(user)
    tiers = list(Tier.objects.all())
    spend = status.spend_12m if status else Decimal("0.00")
    orders = status.orders_12m if status else 0
    current = status.tier if status and status.tier else None
    if current is None:
        reached = [t for t in tiers if t.min_spend <= spend and t.min_orders <= orders]
        current = reached[-1] if reached else None
    if status is not None:
        tz = loyalty_settings.zone_named(status.own_zone) or loyalty_settings.zone()
    else:
        tz = loyalty_settings.shopper_zone(user.pk)
    position = current.position if current else -1
    higher = [t for t in tiers if t.position > position]
    next_tier = None
    if higher:
        target = higher[0]
        # The last day the oldest order in the window still counts, in the shopper's zone
        # (the window is whole days of their calendar: ``loyalty_settings.window_start``).
        window = timedelta(days=loyalty_settings.get("LOYALTY_WINDOW_DAYS"))
        oldest = status.oldest_in_window_at if status else None
        next_tier = NextTier(
            tier=target,
            spend_needed=max(Decimal("0.00"), target.min_spend - spend),
            orders_needed=max(0, target.min_orders - orders),
            by=(oldest or now).astimezone(tz).date() + window,
        )
    coupons = [
        CouponView(coupon=c, description=rules.describe_coupon(c), state=_state(c, now))
        for c in coupons_for(user)[:100]
    ]
    order = {"usable": 0, "not yet valid": 1, "used": 2, "expired": 3, "withdrawn": 4}
    coupons.sort(key=lambda v: order[v.state])
    return Rewards(
        status=status, tier=current, next=next_tier, tiers=tiers, coupons=coupons, zone=tz
    )
