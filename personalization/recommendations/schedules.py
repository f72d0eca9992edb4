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


def ensure_schedules(**models) -> int:
    """Create this app's missing ``SCHEDULES`` rows; see ``config.beat.ensure_periodic_tasks``."""
    from config.beat import ensure_periodic_tasks

    return ensure_periodic_tasks(SCHEDULES, **models)
