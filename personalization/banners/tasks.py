from celery import shared_task
from django.db import DatabaseError

from . import services


@shared_task(
    name="personalization.banners.tasks.flush_banner_decisions",
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    max_retries=5,
    acks_late=True,
    soft_time_limit=120,
    time_limit=150,
)
def flush_banner_decisions() -> int:
    """Write queued banner decisions and impressions (every minute; idempotent by uuid)."""
    return services.banner_decisions_flush()
