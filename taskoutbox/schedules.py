"""The outbox's beat schedule (django-celery-beat row, created once; staff may edit it)."""

SCHEDULES = [
    {
        "name": "outbox: publish parked tasks",
        "task": "taskoutbox.publish_parked",
        "interval": {"every": 30, "period": "seconds"},
        "description": "Publishes the task calls that were parked while the broker was down.",
    },
]


def ensure_schedules(**models) -> int:
    """Create the schedule if it is missing; returns the number created (0 or 1)."""
    from config.beat import ensure_periodic_tasks

    return ensure_periodic_tasks(SCHEDULES, **models)
