"""The shop's beat schedules, kept in the database (django-celery-beat).

Created by the data migration with ``config.beat``: missing rows
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


def ensure_schedules(**models) -> int:
    """Create the missing shop schedules; see ``config.beat.ensure_periodic_tasks``."""
    from config.beat import ensure_periodic_tasks

    return ensure_periodic_tasks(SCHEDULES, **models)
