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
        "description": "Plans scheduled campaigns whose planning task was lost.",
    },
]


def ensure_schedules(**models) -> int:
    """Create this app's missing ``SCHEDULES`` rows; see ``config.beat.ensure_periodic_tasks``."""
    from config.beat import ensure_periodic_tasks

    return ensure_periodic_tasks(SCHEDULES, **models)
