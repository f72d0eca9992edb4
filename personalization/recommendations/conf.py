"""Settings of the recommendations, read lazily so ``override_settings`` works."""

from django.conf import settings

DEFAULTS = {
    # The recommender (the swap point): a dotted path to a Recommender class.
    "RECOMMENDATIONS_BACKEND": "personalization.recommendations.backends.AffinityPairsRecommender",
    "RECOMMENDATIONS_PAIR_WEIGHTS": {"purchase": 1.0, "like": 0.5},
    "RECOMMENDATIONS_PAIRS_PER_PRODUCT": 30,
    "RECOMMENDATIONS_ITEMS_PER_SHOPPER": 100,
    "RECOMMENDATIONS_POPULARITY_DAYS": 90,
    "RECOMMENDATIONS_POPULARITY_WEIGHTS": {
        "purchase": 5.0,
        "like": 2.0,
        "view": 0.2,
        "rating": 0.1,
    },
    "RECOMMENDATIONS_PICKS": 12,
    "RECOMMENDATIONS_CACHE_SECONDS": 3600,
    "RECOMMENDATIONS_SHARED_CACHE_SECONDS": 600,
    "RECOMMENDATIONS_DECISION_RETENTION_DAYS": 90,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])
