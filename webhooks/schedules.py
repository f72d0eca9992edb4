"""The webhooks beat schedule (django-celery-beat row, created once; staff may edit it)."""

SCHEDULES = [
    {
        "name": "webhooks: send due retries",
        "task": "webhooks.send_due",
        "interval": {"every": 1, "period": "minutes"},
        "description": "Sends webhook deliveries whose retry time has come.",
    },
]


def ensure_schedule(**models) -> bool:
    """Create the retry schedule if it is missing; True when it was created."""
    from config.beat import ensure_periodic_tasks

    return ensure_periodic_tasks(SCHEDULES, **models) == 1
