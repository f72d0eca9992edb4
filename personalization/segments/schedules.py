"""The beat schedule of segments (django-celery-beat rows; staff may edit or disable them)."""

SCHEDULES = [
    {
        "name": "segments: refresh all segments",
        "task": "personalization.segments.tasks.refresh_segments",
        "interval": {"every": 15, "period": "minutes"},
        "description": "Materializes every active segment's membership (entries and exits).",
    },
]


def ensure_schedules(**models) -> int:
    from personalization.schedules import ensure_schedules as ensure

    return ensure(schedules=SCHEDULES, **models)
