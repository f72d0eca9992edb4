"""ActivityStreams 2.0 (https://www.w3.org/TR/activitystreams-core/) helpers for the export.

Likes, follows and reviews are written as activities a shopper can take to another service:
``Like`` and ``Follow`` activities and ``Create`` activities of a ``Note`` for reviews.
"""

from collections.abc import Iterable
from datetime import UTC

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist

CONTEXT = "https://www.w3.org/ns/activitystreams"


def absolute(url: str) -> str:
    """``url`` made absolute against ``SITE_URL`` (unchanged when already absolute)."""
    if not url or "://" in url:
        return url
    return f"{settings.SITE_URL}{url}"


def actor_id(user) -> str:
    """The shopper as an actor: their public profile address, else a URN with the account id."""
    try:
        profile = user.public_profile
    except ObjectDoesNotExist:
        profile = None
    if profile is not None and profile.is_public:
        return absolute(profile.get_absolute_url())
    return f"urn:agora:shopper:{user.pk}"


def collection(user, activities: Iterable[dict], *, summary: str) -> dict:
    """An ``OrderedCollection`` document holding ``activities`` (each without ``@context``)."""
    items = list(activities)
    return {
        "@context": CONTEXT,
        "type": "OrderedCollection",
        "summary": summary,
        "actor": actor_id(user),
        "totalItems": len(items),
        "orderedItems": items,
    }


def iso(value) -> str:
    """An aware datetime as the xsd:dateTime AS2 uses (UTC, 'Z')."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
