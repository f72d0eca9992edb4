"""Personal data held by loyalty: the shopper's tier and spend figures, the coupons given to
them (with the stored reason, also shown on the "Recent decisions" page) and the coupons they
used on orders.

Coupons referenced by a redemption are protected (accounting): on erasure the shopper's
unused coupons are deleted and used ones are kept on the emptied account with the reason and
the facts that earned them cleared. Redemptions are kept for accounting without the shopper.
"""

from django.db.models import Q
from django.urls import reverse

from privacy import registry
from privacy.registry import Custom, Decision, Delete, Detach

registry.register(
    "loyalty.LoyaltyStatus",
    kind="loyalty_status",
    description="Your loyalty tier and the figures that decide it (net spend and orders over "
    "the last 12 months and in total).",
    owner="user",
    fields={
        "tier__name": "Your tier, if any.",
        "spend_12m": "Net spend over the last 12 months (decimal string, EUR).",
        "orders_12m": "Orders over the last 12 months.",
        "spend_total": "Net spend in total (decimal string, EUR).",
        "orders_total": "Orders in total.",
        "oldest_in_window_at": "The oldest order still counted in the 12 months (UTC, ISO 8601).",
        "last_order_at": "Your last order (UTC, ISO 8601).",
        "computed_at": "When these figures were computed (UTC, ISO 8601).",
    },
    erase=Delete(),
)


def _erase_coupons(queryset, *, field, user, options) -> int:
    """Unused coupons are deleted; coupons used on an order stay (redemptions protect them, for
    accounting) on the emptied account, without the reason and facts that described the
    shopper (a single-shopper code must keep an owner)."""
    deleted, _ = queryset.filter(redemptions__isnull=True).delete()
    kept = queryset.update(reason="Issued to a former member", facts={}, occasion="")
    return deleted + kept


registry.register(
    "loyalty.Coupon",
    kind="coupons",
    description="The coupons we gave you and why (a tier reached, an order number, your "
    "birthday ...), their benefit, validity and how often they were used.",
    owner="owner",
    fields={
        "code": "The code.",
        "kind": "single (only you), shared or bulk.",
        "benefit_type": "percentage, fixed or free_shipping.",
        "benefit_value": "Percent or euros off (decimal string).",
        "valid_from": "Valid from (UTC, ISO 8601).",
        "valid_until": "Valid until, if limited.",
        "uses": "How often it was used.",
        "trigger": "What gave it: tier_reached, nth_order, spend_threshold, birthday, win_back, "
        "replacement_intent, staff, public or bulk.",
        "reason": "Why you have it, as stored when it was issued.",
        "facts": "What matched when it was issued.",
        "revoked_at": "When it was withdrawn, if it was.",
        "revoked_reason": "Why it was withdrawn.",
        "created_at": "When it was issued (UTC, ISO 8601).",
    },
    erase=Custom(fn=_erase_coupons, label="unused ones deleted, used ones kept without details"),
    references={"issued_by": Detach()},  # staff who issued a coupon: the coupon stays
    order=60,
)

registry.register(
    "loyalty.CouponRedemption",
    kind="coupon_redemptions",
    description="The coupons you used on your orders and how much they took off. Kept for "
    "accounting without any link to you after erasure.",
    owner="user",
    fields={
        "coupon__code": "The code.",
        "order_id": "The order.",
        "amount": "The discount (decimal string, EUR).",
        "created_at": "When (UTC, ISO 8601).",
    },
    erase=Detach(clear={"shopper_key": ""}),
    order=50,
)


def coupon_decisions(user, *, limit):
    """Coupons issued (and withdrawn) with their stored reasons, in one query."""
    from .models import Coupon

    url = reverse("loyalty:rewards")
    mine = Coupon.objects.filter(owner=user)
    newest = mine.order_by("-created_at", "-pk").values("pk")[:limit]
    revoked = mine.exclude(revoked_at=None).order_by("-revoked_at", "-pk").values("pk")[:limit]
    rows = Coupon.objects.filter(Q(pk__in=newest) | Q(pk__in=revoked)).only(
        "code", "reason", "created_at", "revoked_at", "revoked_reason"
    )
    found = []
    for row in rows:
        found.append(
            Decision(
                source="Loyalty",
                what=f"Gave you the coupon {row.code}",
                why=row.reason,  # the stored reason, never recomputed
                at=row.created_at,
                url=url,
            )
        )
        if row.revoked_at is not None:
            found.append(
                Decision(
                    source="Loyalty",
                    what=f"Withdrew the coupon {row.code}",
                    why=row.revoked_reason,
                    at=row.revoked_at,
                    url=url,
                )
            )
    found.sort(key=lambda d: d.at, reverse=True)
    return found[:limit]


registry.register_decisions("Loyalty", coupon_decisions)
