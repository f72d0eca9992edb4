"""Personal data held by banners: which banner was shown to the shopper, and why (the stored
decision rows, also shown on the "Recent decisions" page)."""

from privacy import registry
from privacy.registry import Decision, Delete

registry.register(
    "banners.BannerDecision",
    kind="banner_decisions",
    description="The banners we showed you, and why each was chosen (the customer group or "
    "the category you were browsing). Used to count views and clicks per banner.",
    owner="user",
    fields={
        "banner__name": "The banner.",
        "variant__headline": "The headline you saw.",
        "placement": "Where it was shown: home_hero, category, product, cart or account.",
        "reason": "segment, browsing or everyone.",
        "segment__name": "The customer group that chose it, if any.",
        "category__name": "The category you were browsing, if any.",
        "explanation": "Why, in plain words, as stored when it was chosen.",
        "chosen_at": "When it was shown (UTC, ISO 8601).",
        "clicked_at": "When you clicked it, if you did.",
    },
    erase=Delete(),
)


def banner_decisions(user, *, limit):
    from .models import BannerDecision

    rows = BannerDecision.objects.filter(user=user).select_related("variant")
    return [
        Decision(
            source="Banners",
            what=f"Showed you the banner “{row.variant.headline}”",
            # the stored reason, never recomputed
            why="; ".join(row.explanation) if row.explanation else row.get_reason_display(),
            at=row.chosen_at,
        )
        for row in rows.order_by("-chosen_at", "-pk")[:limit]
    ]


registry.register_decisions("Banners", banner_decisions)
