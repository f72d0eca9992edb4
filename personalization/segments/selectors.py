"""Reading segments. ``segment_ids_for_user`` is what pages use: one cache read once warm."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import QuerySet

from config.aftercommit import cache_fill

from .models import Segment, SegmentMembership, SegmentMembershipHistory

CACHE_KEY = "seg:shopper:{}"


def segment_ids_for_user(user) -> frozenset[int]:
    """The ids of the segments the shopper is a member of (as of the last refresh).

    Anonymous shoppers are in none. Cached per shopper (``SEGMENTS_CACHE_SECONDS``); a refresh
    forgets the entries of the shoppers who entered or left a segment.
    """
    return shopper_segments(user)[1]


def shopper_segments(user) -> tuple[bool, frozenset[int]]:
    """(personalization on?, segment ids) for the shopper: one cache read once warm.

    Turning personalization off or on forgets the entry at once (not only at the next refresh).
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return True, frozenset()
    key = CACHE_KEY.format(user.pk)
    cached = cache.get(key)
    if cached is not None:
        return cached
    from personalization.models import ShopperChoice

    enabled = not ShopperChoice.objects.filter(
        user_id=user.pk, personalization_enabled=False
    ).exists()
    ids = frozenset(
        SegmentMembership.objects.filter(user_id=user.pk).values_list("segment_id", flat=True)
    )
    value = (enabled, ids)
    cache_fill(key, value, getattr(settings, "SEGMENTS_CACHE_SECONDS", 3600))
    return value


def segment_cache_forget(*, user_ids) -> None:
    """Drop the cached segment ids of ``user_ids``, with a lease (``config.cache.cache_forget``)."""
    from config.cache import cache_forget

    cache_forget([CACHE_KEY.format(pk) for pk in user_ids])


def segment_members(segment) -> QuerySet:
    """The users in ``segment`` (a Segment or its id) as of the last refresh."""
    segment_id = getattr(segment, "pk", segment)
    return get_user_model().objects.filter(segment_memberships__segment_id=segment_id)


def segments_for_user(user) -> QuerySet[Segment]:
    return Segment.objects.filter(memberships__user=user).order_by("name")


def segment_history_for_user(user) -> QuerySet[SegmentMembershipHistory]:
    return SegmentMembershipHistory.objects.filter(user=user).select_related("segment")


def segment_preview(*, rules, slug: str = "", sample: int = 20) -> tuple[int, list]:
    """Count and a sample of the users a rule tree matches *now* (before saving).

    Raises RuleError for a bad tree. Two queries: a count and the sample.
    """
    from .rules import Env, tree_compile

    q = tree_compile(rules, env=Env(stack=(slug,) if slug else ()))
    users = get_user_model().objects.filter(q, is_active=True)
    return users.count(), list(users.order_by("pk")[:sample])
