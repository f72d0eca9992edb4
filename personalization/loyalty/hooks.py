"""Where loyalty tells other features what happened, and plugs into their registries.

``coupons_issued`` / ``coupon_redeemed`` write the ``coupon.issued`` / ``coupon.redeemed``
webhook events in the caller's transaction (delivered after commit by the webhooks app);
``register_all`` (called from LoyaltyConfig.ready()) adds the "loyalty tier" segment rule.
"""

from __future__ import annotations

import importlib.util


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def coupons_issued(*, coupon_ids: list[int]) -> None:
    """``coupon.issued`` webhook events, one per coupon (id, owner id, when), written in the
    issuing transaction and delivered after commit."""
    if not coupon_ids:
        return
    from webhooks.services import subscribed_events, webhook_events_emit

    if "coupon.issued" not in subscribed_events():  # nobody listens: no query at all
        return
    from .models import Coupon

    rows = Coupon.objects.filter(pk__in=coupon_ids).values_list("pk", "owner_id", "created_at")
    webhook_events_emit(
        event="coupon.issued",
        payloads=[{"coupon_id": pk, "customer_id": owner, "at": at} for pk, owner, at in rows],
    )


def coupon_redeemed(*, order, discounts) -> None:
    """``coupon.redeemed`` webhook events for the coupons an order used (in its transaction)."""
    from webhooks.services import webhook_events_emit

    webhook_events_emit(
        event="coupon.redeemed",
        payloads=[
            {
                "coupon_id": discount.reference,
                "customer_id": order.user_id,
                "at": order.created_at,
                "order_number": order.number,
            }
            for discount in discounts
            if discount.reference is not None
        ],
    )


def register_all() -> None:
    """Register the "loyalty tier" segment rule when the segments registry exists."""
    if _has("personalization.segments.rules"):
        from . import segment_rule

        segment_rule.register()
