"""Personal data held by recommendations: the picks chosen for the shopper and why (the stored
decision rows, also shown on the "Recent decisions" page)."""

from django.urls import reverse

from privacy import registry
from privacy.registry import Decision, Delete

registry.register(
    "recommendations.PickDecision",
    kind="pick_decisions",
    description="The products we picked for you, and why each one (what you bought or liked, "
    "an interest in your profile, or what is popular), as stored when they were chosen.",
    owner="user",
    fields={
        "mode": "personal (from your activity) or popular (no profile yet).",
        "strategy": "The method that chose the picks.",
        "picks": "The products in the order shown: product id, reason kind (bought, liked, "
        "affinity, popular), the product behind it, the reason in plain words, its score.",
        "data_used": "What the choice read: purchases, likes, interests, popularity.",
        "decided_at": "When the picks were chosen (UTC, ISO 8601).",
    },
    erase=Delete(),
)


def _reasons(picks: list[dict]) -> str:
    """The picks' stored reasons in the order first given, each once, with how many picks it
    explains when more than one ("You often look at Cameras (11 picks); You like Northwind")."""
    counts: dict[str, int] = {}
    for pick in picks:
        if pick.get("text"):
            counts[pick["text"]] = counts.get(pick["text"], 0) + 1
    return "; ".join(text if n == 1 else f"{text} ({n} picks)" for text, n in counts.items())


def pick_decisions(user, *, limit):
    from shop.models import Product

    from .models import PickDecision

    rows = list(PickDecision.objects.filter(user=user).order_by("-decided_at", "-pk")[:limit])
    if not rows:
        return []
    ids = {p["product"] for row in rows for p in row.picks}
    names = dict(Product.objects.filter(pk__in=ids).values_list("pk", "name"))
    url = reverse("recommendations:why")
    found = []
    for row in rows:
        shown = [names.get(p["product"], "a product no longer sold") for p in row.picks]
        found.append(
            Decision(
                source="Recommendations",
                what=f"Picked {len(shown)} products for you: " + ", ".join(shown)
                if shown
                else "Picked no products for you",
                # the stored reasons, never recomputed
                why=_reasons(row.picks) or row.get_mode_display(),
                at=row.decided_at,
                url=url,
            )
        )
    return found


registry.register_decisions("Recommendations", pick_decisions)
