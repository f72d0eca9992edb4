"""Consented social data for profiles, read through the social app's public selectors.

``social.selectors.social_profile(user)`` holds only what the shopper grants right now; on top of
that, a field is used only while one of the consent categories listed for it in
``PERSONALIZATION_CONSENT_CATEGORIES`` is granted, so a profile can never hold more than the
permission screen allowed.
"""

from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from social.selectors import social_profiles_for_users

from .models import PreferenceProfile, RemovedInterest, ShopperChoice

MAX_INTERESTS = 50


def demographics_for(user) -> dict:
    """The demographic fields the shopper granted, cleaned; {} when there are none."""
    return demographics_for_users([user.pk]).get(user.pk, {})


def demographics_for_users(user_ids) -> dict[int, dict]:
    """``{user id: demographics}`` as ``demographics_for`` gives each of ``user_ids`` (ints),
    for those with any: four queries for any number of shoppers (a full build refreshes every
    shopper with social data; one shopper at a time it was four queries each)."""
    profiles = social_profiles_for_users(user_ids)
    if not profiles:
        return {}
    removed: dict[int, set[str]] = {}
    for user_id, value in RemovedInterest.objects.filter(
        user_id__in=list(profiles), dimension="interest"
    ).values_list("user_id", "value"):
        removed.setdefault(user_id, set()).add(value)
    result = {}
    for user_id, profile in profiles.items():
        demographics = _demographics(profile, removed.get(user_id, set()))
        if demographics:
            result[user_id] = demographics
    return result


def _demographics(profile, removed: set[str]) -> dict:
    granted = profile.categories
    result = {}
    for name, categories in settings.PERSONALIZATION_CONSENT_CATEGORIES.items():
        if not granted.intersection(categories):
            continue
        value = getattr(profile, name)
        if name == "interests":
            cleaned = []
            for item in value:
                item = str(item).strip().lower()[:120]
                if item and item not in removed and item not in cleaned:
                    cleaned.append(item)
            if cleaned:
                result[name] = cleaned[:MAX_INTERESTS]
        elif value:
            result[name] = str(value)[:60]
    return result


def demographic_candidates() -> set[int]:
    """Shoppers who may have social data: a connected social account or stored demographics."""
    ids = set(PreferenceProfile.objects.exclude(demographics={}).values_list("user_id", flat=True))
    return ids | set(SocialAccount.objects.values_list("user_id", flat=True))


def refresh_demographics(*, user_ids) -> set[int]:
    """Store each shopper's current consented demographics; returns the profiles changed.

    ``user_ids``: ints, or None for every shopper who may have social data
    (``demographic_candidates``). The social app is read per 1,000 shoppers (four queries
    each time), not per shopper and never per event.
    """
    ids = demographic_candidates() if user_ids is None else set(user_ids)
    opted_out = set(
        ShopperChoice.objects.filter(user_id__in=ids, personalization_enabled=False).values_list(
            "user_id", flat=True
        )
    )
    users = sorted(
        get_user_model().objects.filter(pk__in=ids - opted_out).values_list("pk", flat=True)
    )
    stored = dict(
        PreferenceProfile.objects.filter(user_id__in=ids).values_list("user_id", "demographics")
    )
    changed = set()
    for start in range(0, len(users), 1000):
        batch = users[start : start + 1000]
        current = demographics_for_users(batch)
        for user_id in batch:
            demographics = current.get(user_id, {})
            if stored.get(user_id, {}) == demographics:
                continue
            changed.add(user_id)
            if user_id in stored:
                PreferenceProfile.objects.filter(user_id=user_id).update(
                    demographics=demographics, updated_at=timezone.now()
                )
            elif demographics:
                PreferenceProfile.objects.create(user_id=user_id, demographics=demographics)
    return changed
