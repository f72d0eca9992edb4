"""Where loyalty tells other features what happened, and plugs into their registries.

Each hook is a no-op until the feature it feeds exists on main (webhooks from the API issue,
the privacy registry, the segments rule registry, the CRM's customer 360 sections); then
``register_all`` (called from LoyaltyConfig.ready()) plugs in. See docs/loyalty.md.
"""

from __future__ import annotations

import importlib.util
from functools import partial

from django.db import transaction


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _emit(event: str, payload: dict) -> None:
    """Emit a webhook event after commit when the API's webhooks exist (issue 14)."""
    for path in ("api.webhooks", "api.services"):
        if _has(path):
            module = importlib.import_module(path)
            emit = getattr(module, "webhook_event_emit", None)
            if emit is not None:
                transaction.on_commit(partial(emit, event=event, payload=payload))
                return


def coupons_issued(*, coupon_ids: list[int]) -> None:
    if coupon_ids:
        _emit("coupon.issued", {"coupon_ids": coupon_ids[:1000], "count": len(coupon_ids)})


def coupon_redeemed(*, order, discounts) -> None:
    for discount in discounts:
        if discount.reference is not None:
            _emit(
                "coupon.redeemed",
                {"code": discount.code, "order": order.number, "amount": str(discount.amount)},
            )


def register_all() -> None:
    """Register the "loyalty tier" segment rule when the segments registry exists."""
    if _has("personalization.segments.rules"):
        from . import segment_rule

        segment_rule.register()
