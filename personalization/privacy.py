"""Personal data held by personalization: the event log, the preference profile and the
shopper's own choices about personalization."""

from privacy import registry
from privacy.registry import Custom, Delete


def _erase_events(queryset, *, field, user, options) -> int:
    """Searches (their text is the shopper's) are deleted; other events are kept for the
    store's statistics with the shopper detached: no user, no session, no attributes that
    could name them (attributes keep only product dimensions)."""
    searches, _ = queryset.filter(kind="search").delete()
    detached = queryset.update(user=None, session_key="")
    return searches + detached


def export_events(user):
    from .models import Event

    return (
        Event.objects.filter(user=user)
        .order_by("occurred_at", "pk")
        .values("kind", "occurred_at", "product_id", "product__name", "attributes", "value")
    )


registry.register(
    "personalization.Event",
    kind="events",
    description="What you did in the store: products viewed, searches, carts, purchases, likes, "
    "shares, reviews and posts. Used to build your interest profile; deleted after the "
    "retention period shown on this page. After erasure searches are deleted and the other "
    "events are kept for statistics without any link to you.",
    fields={
        "kind": "view, search, add_to_cart, purchase, like, unlike, share, review, forum_post, "
        "text_signal, coupon_redeemed, email_open, email_click.",
        "occurred_at": "When (UTC, ISO 8601).",
        "product_id": "The product concerned, if any.",
        "product__name": "Its name.",
        "attributes": "Details: search words, product dimensions (category, brand, colour ...).",
        "value": "Amount for purchases (decimal string, EUR).",
    },
    export=export_events,
    erase=Custom(fn=_erase_events, label="searches deleted, other events kept without you"),
)

PROFILE_FIELDS = (
    "event_count",
    "order_count",
    "monetary",
    "last_purchase_at",
    "first_purchase_at",
    "sentiment_sum",
    "sentiment_count",
    "intents",
    "demographics",
    "updated_at",
)


def export_profile(user):
    """The shopper's profile with ``affinities`` decoded to ``{"<dimension>:<value>": raw}``
    (stored as key ids and scores, see ``PreferenceProfile``)."""
    from .models import PreferenceProfile

    return [
        {
            "affinities": profile.affinities,
            **{name: getattr(profile, name) for name in PROFILE_FIELDS},
        }
        for profile in PreferenceProfile.objects.filter(user=user)
    ]


registry.register(
    "personalization.PreferenceProfile",
    kind="preference_profile",
    description="Your interest profile: what we learnt from your activity and the social data "
    "you shared, used to pick products and offers for you.",
    fields={
        "affinities": "Interest scores per '<dimension>:<value>' (raw, decayed over time).",
        "event_count": "How many events it is built from.",
        "order_count": "How many orders you placed.",
        "monetary": "How much you spent (decimal string, EUR).",
        "last_purchase_at": "Your last purchase (UTC, ISO 8601).",
        "first_purchase_at": "Your first purchase.",
        "sentiment_sum": "Sum of the tone scores of your reviews and posts (-1 to 1 each).",
        "sentiment_count": "How many texts were scored.",
        "intents": "What you said you are looking for, with its expiry (Unix seconds).",
        "demographics": "Age band, gender, relationship status, interests you shared.",
        "updated_at": "Last rebuilt (UTC, ISO 8601).",
    },
    export=export_profile,
    erase=Delete(),
)

registry.register(
    "personalization.ShopperChoice",
    kind="personalization_choice",
    description="Whether you turned personalization off.",
    fields={"personalization_enabled": "On or off.", "updated_at": "When you changed it."},
    erase=Delete(),
)

registry.register(
    "personalization.RemovedInterest",
    kind="removed_interests",
    description="Interests you removed from your profile.",
    fields={"dimension": "The kind of interest.", "value": "The value.", "removed_at": "When."},
    erase=Delete(),
)


def _purge_events(*, before) -> int:
    from .models import Event

    return Event.objects.filter(occurred_at__lt=before).exclude(kind="search").delete()[0]


def _purge_searches(*, before) -> int:
    from .models import Event

    return Event.objects.filter(occurred_at__lt=before, kind="search").delete()[0]


registry.register_retention(
    "events",
    label="Activity (products viewed, carts, purchases, likes ...)",
    description="Used to build your interest profile; recent activity counts most.",
    purge=_purge_events,
    default_days=365,
)
registry.register_retention(
    "search_history",
    label="Search history",
    description="The words you searched for, used to improve results and suggestions.",
    purge=_purge_searches,
    default_days=90,
)


def _forget_profiles(*, user_ids) -> None:
    from .selectors import profile_cache_forget

    profile_cache_forget(user_ids=user_ids)


registry.register_cache("personalization: cached profiles", _forget_profiles)
