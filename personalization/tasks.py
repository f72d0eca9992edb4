"""Celery tasks of personalization: thin wrappers that own retries.

Every task is idempotent (see ``personalization.building``); ``acks_late`` and
``reject_on_worker_lost`` come from settings, so a task whose worker dies is delivered again.
"""

from celery import shared_task
from django.db import DatabaseError

from . import services
from .building import BuildBusy

RETRYING = {
    "autoretry_for": (DatabaseError, BuildBusy),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
}


def _after_build(result) -> None:
    """Right after a committed build: refresh the segments of the shoppers whose profile changed
    (all of them after a full build, even one that changed no profile: time-based rules move).
    The segments app owns that task; without it, nothing."""
    from django.apps import apps

    if result.skipped or (result.mode != "full" and not result.changed_user_ids):
        return
    if not apps.is_installed("personalization.segments"):
        return
    from personalization.segments.tasks import refresh_segments

    user_ids = None if result.mode == "full" else list(result.changed_user_ids)
    refresh_segments.delay(user_ids=user_ids)


def _summary(result) -> dict:
    return {
        "mode": result.mode,
        "from_event": result.from_event,
        "to_event": result.to_event,
        "profiles": result.profiles,
        "seconds": round(result.seconds, 3),
        "skipped": result.skipped,
    }


@shared_task(
    name="personalization.tasks.build_profiles", soft_time_limit=120, time_limit=150, **RETRYING
)
def build_profiles() -> dict:
    """Incremental build from the watermark (scheduled every minute by beat); the streamed
    events are copied in first, so the build sees them."""
    from .events import stream_drain

    stream_drain()
    result = services.profile_build_incremental()
    _after_build(result)
    return _summary(result)


@shared_task(
    name="personalization.tasks.rebuild_all_profiles",
    soft_time_limit=900,
    time_limit=960,
    **RETRYING,
)
def rebuild_all_profiles() -> dict:
    """Full rebuild (scheduled nightly): picks up changed products and consents."""
    result = services.profile_build_full()
    _after_build(result)
    return _summary(result)


@shared_task(
    name="personalization.tasks.rebuild_profile", soft_time_limit=60, time_limit=90, **RETRYING
)
def rebuild_profile(user_id: int) -> dict:
    """Rebuild one shopper (after a consent is granted or revoked, or an anonymous merge)."""
    result = services.profile_rebuild_for_user(user_id=int(user_id))
    _after_build(result)
    return _summary(result)


@shared_task(
    name="personalization.tasks.purge_old_events", soft_time_limit=900, time_limit=960, **RETRYING
)
def purge_old_events() -> int:
    """Apply the optional retention limit for raw events."""
    return services.events_purge_expired()


@shared_task(
    name="personalization.tasks.drain_event_stream", soft_time_limit=60, time_limit=90, **RETRYING
)
def drain_event_stream() -> int:
    """Copy the Redis event stream into the Event table (scheduled every 10 s by beat)."""
    from .events import stream_drain

    return stream_drain()
