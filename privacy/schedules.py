"""The beat schedules of the privacy app, kept in the database (django-celery-beat).

Created by the data migration and the demo seeder (``config.beat``): missing rows are
created, existing ones (staff edits) are kept.
"""

SCHEDULES = [
    {
        "name": "privacy: purge data past its retention",
        "task": "privacy.tasks.purge_expired_data",
        "crontab": {"minute": "15", "hour": "4"},
        "description": "Applies PRIVACY_RETENTION_DAYS (events, search history, abandoned "
        "carts ...) and removes expired export archives.",
    },
    {
        "name": "privacy: run account deletions due",
        "task": "privacy.tasks.run_due_erasures",
        "interval": {"every": 1, "period": "hours"},
        "description": "Deletes the accounts whose grace period is over.",
    },
]


def ensure_schedules(**models) -> int:
    """Create this app's missing ``SCHEDULES`` rows; see ``config.beat.ensure_periodic_tasks``."""
    from config.beat import ensure_periodic_tasks

    return ensure_periodic_tasks(SCHEDULES, **models)
