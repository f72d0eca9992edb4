"""The beat schedules of the privacy app, kept in the database (django-celery-beat).

Created by the data migration and the demo seeder with ``personalization.schedules``'s
``ensure_schedules`` logic: missing rows are created, existing ones (staff edits) are kept.
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


def ensure_schedules(*, PeriodicTask=None, IntervalSchedule=None, CrontabSchedule=None) -> int:
    """Create the missing schedules; returns how many were created. Models may be historical."""
    if PeriodicTask is None:
        from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask
    created = 0
    for spec in SCHEDULES:
        if PeriodicTask.objects.filter(name=spec["name"]).exists():
            continue
        kwargs = {}
        if "interval" in spec:
            kwargs["interval"], _ = IntervalSchedule.objects.get_or_create(**spec["interval"])
        else:
            kwargs["crontab"], _ = CrontabSchedule.objects.get_or_create(
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone="UTC",
                **spec["crontab"],
            )
        PeriodicTask.objects.create(
            name=spec["name"], task=spec["task"], description=spec["description"], **kwargs
        )
        created += 1
    return created
