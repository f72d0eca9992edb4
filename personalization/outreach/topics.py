"""Marketing topics a shopper can turn off in the preference centre.

``OUTREACH_TOPICS`` in settings (code -> label) extends or replaces the defaults; a campaign
has one topic.
"""

from django.conf import settings

DEFAULT_TOPICS = {
    "offers": "Offers and coupons",
    "picks": "Picks for you",
    "news": "New arrivals and store news",
}


def all_topics() -> dict[str, str]:
    return dict(getattr(settings, "OUTREACH_TOPICS", None) or DEFAULT_TOPICS)


def codes() -> list[str]:
    return list(all_topics())


def choices() -> list[tuple[str, str]]:
    return list(all_topics().items())
