"""'Why these picks?': the shopper's latest decision, read from its row, in plain words."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from personalization.selectors import personalization_enabled

from . import selectors

DATA_LABELS = {
    "purchases": "what you bought here",
    "likes": "the products you like",
    "interests": "the interests in your profile (built from your browsing)",
    "popularity": "what is popular with all shoppers",
}


@login_required
def why(request):
    enabled = personalization_enabled(user=request.user)
    decision = selectors.latest_decision(user=request.user) if enabled else None
    names = selectors.decision_products(decision) if decision else {}
    rows = []
    if decision:
        for pick in decision.picks:
            rows.append(
                {
                    "name": names.get(pick["product"], "A product no longer sold"),
                    "text": pick["text"],
                    "reason": pick["reason"],
                }
            )
    context = {
        "enabled": enabled,
        "decision": decision,
        "rows": rows,
        "data_used": [DATA_LABELS.get(d, d) for d in (decision.data_used if decision else [])],
    }
    return render(request, "recommendations/why.html", context)
