"""The beat schedule of segments (django-celery-beat rows; staff may edit or disable them)."""

SCHEDULES = [
    {
        "name": "segments: refresh all segments",
        "task": "personalization.segments.tasks.refresh_segments",
        "interval": {"every": 15, "period": "minutes"},
        "description": "Materializes every active segment's membership (entries and exits).",
    },
    {
        "name": "banners: write banner decisions and impressions",
        "task": "personalization.banners.tasks.flush_banner_decisions",
        "interval": {"every": 1, "period": "minutes"},
        "description": "Moves the banner decisions queued in Redis into the database.",
    },
]


def ensure_schedules(**models) -> int:
    """Create this app's missing ``SCHEDULES`` rows; see ``config.beat.ensure_periodic_tasks``."""
    from config.beat import ensure_periodic_tasks

    return ensure_periodic_tasks(SCHEDULES, **models)
