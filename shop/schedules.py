"""The shop's beat schedules, kept in the database (django-celery-beat).

Created by the data migration with ``personalization.schedules.ensure_schedules``: missing rows
are created, existing ones (staff edits) are kept.
"""

SCHEDULES = [
    {
        "name": "shop: send order confirmations still owed",
        "task": "shop.tasks.send_pending_confirmations",
        "interval": {"every": 1, "period": "minutes"},
        "description": "Sends the confirmations that the broker or the mail server kept back "
        "(orders remember an owed confirmation until it is sent).",
    },
]


def ensure_schedules(*, PeriodicTask=None, IntervalSchedule=None, CrontabSchedule=None) -> int:
    """Create the missing shop schedules; returns how many were created. Models may be
    historical (the migration passes them)."""
    from personalization.schedules import ensure_schedules as ensure

    return ensure(
        PeriodicTask=PeriodicTask,
        IntervalSchedule=IntervalSchedule,
        CrontabSchedule=CrontabSchedule,
        schedules=SCHEDULES,
    )
