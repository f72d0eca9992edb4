"""The beat schedules of personalization, kept in the database (django-celery-beat).

``ensure_schedules`` creates missing PeriodicTask rows and leaves existing ones alone
(``config.beat``), so staff can change or disable them in the admin and a re-run (migration,
seeder) keeps their edits.
"""

SCHEDULES = [
    {
        "name": "personalization: copy the event stream into the database",
        "task": "personalization.tasks.drain_event_stream",
        "interval": {"every": 10, "period": "seconds"},
        "description": "Bulk-inserts the views and searches queued in Redis (events.py).",
    },
    {
        "name": "personalization: build profiles (incremental)",
        "task": "personalization.tasks.build_profiles",
        "interval": {"every": 1, "period": "minutes"},
        "description": "Adds new events to the preference profiles from the watermark.",
    },
    {
        "name": "personalization: rebuild all profiles",
        "task": "personalization.tasks.rebuild_all_profiles",
        "crontab": {"minute": "30", "hour": "3"},
        "description": "Full rebuild: picks up changed products and consents.",
    },
    {
        "name": "personalization: purge old events",
        "task": "personalization.tasks.purge_old_events",
        "crontab": {"minute": "0", "hour": "4"},
        "description": "Applies PERSONALIZATION_EVENT_RETENTION_DAYS (does nothing when unset).",
    },
]


def ensure_schedules(**models) -> int:
    """Create this app's missing ``SCHEDULES`` rows; see ``config.beat.ensure_periodic_tasks``."""
    from config.beat import ensure_periodic_tasks

    return ensure_periodic_tasks(SCHEDULES, **models)
