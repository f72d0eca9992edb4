"""Beat schedules of the recommendations (database rows, editable in the admin)."""

SCHEDULES = [
    {
        "name": "recommendations: refresh pairs and popularity",
        "task": "recommendations.tasks.refresh_recommendation_data",
        "interval": {"every": 1, "period": "hours"},
        "description": "Co-purchase and co-like counts, popularity (set-based SQL).",
    },
    {
        "name": "recommendations: purge old decisions",
        "task": "recommendations.tasks.purge_pick_decisions",
        "crontab": {"minute": "15", "hour": "4"},
        "description": "Applies RECOMMENDATIONS_DECISION_RETENTION_DAYS.",
    },
]


def ensure_schedules() -> int:
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
