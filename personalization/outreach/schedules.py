"""Beat schedules of outreach (django-celery-beat rows, created once; staff may edit them)."""

SCHEDULES = [
    {
        "name": "outreach: send due messages",
        "task": "outreach.send_due",
        "interval": {"every": 1, "period": "minutes"},
        "description": "Sends planned marketing email whose moment has come (deferred ones too).",
    },
    {
        "name": "outreach: plan scheduled campaigns",
        "task": "outreach.plan_due_campaigns",
        "interval": {"every": 5, "period": "minutes"},
        "description": "Plans scheduled campaigns whose planning task was lost, and adds "
        "shoppers who joined a running campaign's segments (until it ends).",
    },
]


def ensure_schedules() -> int:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    created = 0
    for spec in SCHEDULES:
        if PeriodicTask.objects.filter(name=spec["name"]).exists():
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(**spec["interval"])
        PeriodicTask.objects.create(
            name=spec["name"],
            task=spec["task"],
            description=spec["description"],
            interval=interval,
        )
        created += 1
    return created
