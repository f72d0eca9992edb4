"""Write-side operations of personalization: builds, and the shopper's choices."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import building
from .exceptions import PersonalizationError
from .models import Event, PreferenceProfile, RemovedInterest, ShopperChoice
from .selectors import profile_cache_forget

logger = logging.getLogger(__name__)

REMOVABLE_DIMENSIONS = set(building.DIMENSIONS) | {"interest"}


def profile_build_incremental() -> building.BuildResult:
    """Add the events since the last build to the profiles (no-op when another build runs)."""
    return building.build_incremental()


def profile_build_full() -> building.BuildResult:
    """Rebuild all profiles from the whole event log and current consents."""
    return building.build_full()


def profile_rebuild_for_user(*, user_id: int) -> building.BuildResult:
    """Rebuild one shopper: after a consent change, an anonymous merge, or turning it back on."""
    return building.build_user(user_id=int(user_id))


def _schedule_rebuild(user_id: int) -> None:
    from .tasks import rebuild_profile

    transaction.on_commit(lambda: rebuild_profile.delay(user_id))


def _schedule_segments_refresh(user_id: int) -> None:
    """Turning personalization off takes the shopper out of profile segments at once."""
    from django.apps import apps

    if apps.is_installed("personalization.segments"):
        from personalization.segments.selectors import segment_cache_forget
        from personalization.segments.tasks import refresh_segments

        transaction.on_commit(lambda: segment_cache_forget(user_ids=[user_id]))
        transaction.on_commit(lambda: refresh_segments.delay(user_ids=[user_id]))


@transaction.atomic
def interest_remove(*, user, dimension: str, value: str) -> RemovedInterest:
    """Remove an interest from the shopper's profile; later builds leave it out too."""
    dimension, value = (dimension or "").strip(), (value or "").strip()
    if dimension not in REMOVABLE_DIMENSIONS:
        raise PersonalizationError("That is not a kind of interest we keep.")
    if not value or len(value) > 120:
        raise PersonalizationError("Choose an interest to remove.")
    removal, _ = RemovedInterest.objects.get_or_create(user=user, dimension=dimension, value=value)
    profile = PreferenceProfile.objects.select_for_update().filter(user=user).first()
    if profile is not None:
        if dimension == "interest":
            interests = [i for i in profile.demographics.get("interests", []) if i != value]
            profile.demographics = {**profile.demographics, "interests": interests}
            if not interests:
                profile.demographics.pop("interests")
        else:
            affinities = profile.affinities
            affinities.pop(f"{dimension}:{value}", None)
            profile.affinities = affinities
        profile.save(update_fields=["affinity_ids", "affinity_raw", "demographics"])
    transaction.on_commit(lambda: profile_cache_forget(user_ids=[user.pk]))
    return removal


@transaction.atomic
def interest_restore(*, user, dimension: str, value: str) -> None:
    """Undo a removal; the shopper's profile is rebuilt so the interest can come back."""
    deleted, _ = RemovedInterest.objects.filter(
        user=user, dimension=dimension, value=value
    ).delete()
    if not deleted:
        raise PersonalizationError("That interest was not removed.")
    _schedule_rebuild(user.pk)


@transaction.atomic
def personalization_set_enabled(*, user, enabled: bool) -> ShopperChoice:
    """Turn personalization on or off. Off deletes the profile and no build makes a new one."""
    choice, _ = ShopperChoice.objects.select_for_update().get_or_create(user=user)
    if choice.personalization_enabled != enabled:
        choice.personalization_enabled = enabled
        choice.save()
        if enabled:
            _schedule_rebuild(user.pk)
        else:
            PreferenceProfile.objects.filter(user=user).delete()
        _schedule_segments_refresh(user.pk)
    transaction.on_commit(lambda: profile_cache_forget(user_ids=[user.pk]))
    return choice


def events_purge_expired() -> int:
    """Delete raw events older than PERSONALIZATION_EVENT_RETENTION_DAYS (if set).

    Profiles keep what those events contributed; a later full rebuild no longer sees them.
    """
    days = settings.PERSONALIZATION_EVENT_RETENTION_DAYS
    if not days:
        return 0
    cutoff = timezone.now() - timedelta(days=int(days))
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                Event.objects.filter(occurred_at__lt=cutoff).values_list("id", flat=True)[:10000]
            )
            if not ids:
                return total
            total += Event.objects.filter(id__in=ids).delete()[0]
