"""Celery tasks of the recommendations: thin, idempotent wrappers around the services."""

from celery import shared_task

from personalization.tasks import RETRYING

from . import services


@shared_task(
    name="recommendations.tasks.refresh_recommendation_data",
    soft_time_limit=600,
    time_limit=660,
    **RETRYING,
)
def refresh_recommendation_data() -> dict:
    """Rebuild the co-purchase / co-like pairs and popularity (scheduled hourly by beat)."""
    return services.recommendation_data_refresh()


@shared_task(name="recommendations.tasks.purge_pick_decisions", soft_time_limit=600, time_limit=660)
def purge_pick_decisions() -> int:
    """Apply RECOMMENDATIONS_DECISION_RETENTION_DAYS to the stored decisions (daily)."""
    return services.pick_decisions_purge()
