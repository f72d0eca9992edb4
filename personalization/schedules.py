"""The beat schedules of personalization, kept in the database (django-celery-beat).

``ensure_schedules`` creates missing PeriodicTask rows and leaves existing ones alone, so staff
can change or disable them in the admin and a re-run (migration, seeder) keeps their edits.
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


def ensure_schedules(
    *, PeriodicTask=None, IntervalSchedule=None, CrontabSchedule=None, schedules=None
) -> int:
    """Create the missing schedules (``schedules``, default SCHEDULES); returns how many were
    created. Models may be historical (a migration passes them)."""
    if PeriodicTask is None:
        from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask
    created = 0
    for spec in SCHEDULES if schedules is None else schedules:
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
