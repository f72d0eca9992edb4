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

from social.selectors import granted_categories, social_profile

from .models import PreferenceProfile, RemovedInterest, ShopperChoice

MAX_INTERESTS = 50


def demographics_for(user) -> dict:
    """The demographic fields the shopper granted, cleaned; {} when there are none."""
    granted = granted_categories(user)
    profile = social_profile(user) if granted else None
    if profile is None:
        return {}
    removed = set(
        RemovedInterest.objects.filter(user=user, dimension="interest").values_list(
            "value", flat=True
        )
    )
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

    One call to the social app per shopper with a social account, not per event.
    """
    ids = demographic_candidates() if user_ids is None else set(user_ids)
    opted_out = set(
        ShopperChoice.objects.filter(user_id__in=ids, personalization_enabled=False).values_list(
            "user_id", flat=True
        )
    )
    users = get_user_model().objects.filter(pk__in=ids - opted_out)
    stored = dict(
        PreferenceProfile.objects.filter(user_id__in=ids).values_list("user_id", "demographics")
    )
    changed = set()
    for user in users.iterator(500):
        demographics = demographics_for(user)
        if stored.get(user.pk, {}) == demographics:
            continue
        changed.add(user.pk)
        if user.pk in stored:
            PreferenceProfile.objects.filter(user_id=user.pk).update(
                demographics=demographics, updated_at=timezone.now()
            )
        elif demographics:
            PreferenceProfile.objects.create(user_id=user.pk, demographics=demographics)
    return changed
