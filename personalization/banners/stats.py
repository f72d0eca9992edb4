"""Banner A/B figures: impressions, clicks, click-through rate, attributed orders, significance.

Significance is the two-proportion z-test of each variant's click-through rate against the
control's (pooled standard error), two-sided:

    p = (c1 + c2) / (n1 + n2),  z = (c2/n2 - c1/n1) / sqrt(p (1 - p) (1/n1 + 1/n2)),
    p-value = erfc(|z| / sqrt(2))

(NIST/SEMATECH e-Handbook of Statistical Methods, section 7.3.3 "How can we determine whether
two processes produce the same proportion of defectives?"). It assumes enough data: we report
nothing below 30 impressions per side.
"""

import math
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count

ATTRIBUTION_DAYS = 7
MIN_IMPRESSIONS = 30


@dataclass
class VariantFigures:
    variant: object
    impressions: int
    clicks: int
    ctr: float | None
    orders: int
    z: float | None = None
    p_value: float | None = None


def two_proportion_z(c1: int, n1: int, c2: int, n2: int) -> tuple[float, float] | None:
    """(z, two-sided p-value) of proportion c2/n2 against c1/n1, or None without enough data."""
    if n1 < MIN_IMPRESSIONS or n2 < MIN_IMPRESSIONS:
        return None
    pooled = (c1 + c2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return None
    z = (c2 / n2 - c1 / n1) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


def attributed_orders(variant) -> int:
    """Orders placed by a shopper within ATTRIBUTION_DAYS after clicking this variant."""
    from shop.models import Order

    from .models import BannerDecision

    total = 0
    clicks = BannerDecision.objects.filter(
        variant=variant, clicked_at__isnull=False, user__isnull=False
    ).values_list("user_id", "clicked_at")
    seen = set()
    for user_id, clicked_at in clicks:
        for pk in Order.objects.filter(
            user_id=user_id,
            created_at__gte=clicked_at,
            created_at__lt=clicked_at + timedelta(days=ATTRIBUTION_DAYS),
        ).values_list("pk", flat=True):
            if pk not in seen:
                seen.add(pk)
                total += 1
    return total


def banner_figures(banner) -> list[VariantFigures]:
    variants = list(banner.variants.all().annotate(n=Count("pk")))
    figures = [
        VariantFigures(v, v.impressions, v.clicks, v.ctr, attributed_orders(v)) for v in variants
    ]
    control = next((f for f in figures if f.variant.is_control), figures[0] if figures else None)
    for item in figures:
        if control is None or item is control:
            continue
        result = two_proportion_z(
            control.clicks, control.impressions, item.clicks, item.impressions
        )
        if result:
            item.z, item.p_value = result
    return figures
