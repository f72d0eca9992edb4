"""Celery tasks of segments: thin, idempotent wrappers (a refresh run twice changes nothing)."""

from celery import shared_task
from django.db import DatabaseError

from . import services

RETRYING = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


def _summary(result) -> dict:
    return {
        "segments": result.segments,
        "entered": result.entered,
        "left": result.left,
        "seconds": round(result.seconds, 3),
        "errors": result.errors,
    }


@shared_task(
    name="personalization.segments.tasks.refresh_segments",
    soft_time_limit=600,
    time_limit=660,
    **RETRYING,
)
def refresh_segments(segment_ids=None, user_ids=None) -> dict:
    """Refresh all active segments (scheduled), or some, or only some shoppers."""
    return _summary(services.segments_refresh(segment_ids=segment_ids, user_ids=user_ids))
