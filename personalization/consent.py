"""Consented social data for profiles, read through the social app's public selectors.

``social.selectors.social_profile(user)`` holds only what the shopper grants right now; on top of
that, a field is used only while one of the consent categories listed for it in
``PERSONALIZATION_CONSENT_CATEGORIES`` is granted, so a profile can never hold more than the
permission screen allowed.
"""

import json

from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
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
    (``demographic_candidates``). Per 1,000 shoppers: the social app is read in four queries,
    and the changed profiles are written in two (one UPDATE of all the changed ones, one
    INSERT of the new ones), never one per shopper: a full build after 36,665 shoppers'
    demographics changed spent 18 s writing them one UPDATE at a time (issue 15).
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
        updates, creates = {}, {}
        for user_id in batch:
            demographics = current.get(user_id, {})
            if stored.get(user_id, {}) == demographics:
                continue
            if user_id in stored:
                updates[user_id] = demographics
            elif demographics:
                creates[user_id] = demographics
        _write_demographics(updates, creates)
        changed.update(updates, creates)
    return changed


def _write_demographics(updates: dict[int, dict], creates: dict[int, dict]) -> None:
    """Set ``demographics`` of the stored profiles ``updates`` (user id -> demographics) in one
    statement, and create the profiles ``creates`` in one (a profile created meanwhile keeps
    its event part and takes these demographics: the primary key settles it)."""
    now = timezone.now()
    if updates and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE personalization_preferenceprofile AS p "
                "SET demographics = v.demographics::jsonb, updated_at = %s "
                "FROM unnest(%s::int[], %s::text[]) AS v(user_id, demographics) "
                "WHERE p.user_id = v.user_id",
                [now, list(updates), [json.dumps(d) for d in updates.values()]],
            )
    elif updates:  # SQLite (the embedded demo): a few shoppers
        profiles = list(PreferenceProfile.objects.filter(user_id__in=list(updates)))
        for profile in profiles:
            profile.demographics, profile.updated_at = updates[profile.user_id], now
        PreferenceProfile.objects.bulk_update(profiles, ["demographics", "updated_at"])
    if creates:
        PreferenceProfile.objects.bulk_create(
            [PreferenceProfile(user_id=pk, demographics=d) for pk, d in creates.items()],
            update_conflicts=True,
            unique_fields=["user"],
            update_fields=["demographics", "updated_at"],
        )
