"""Thin Celery task of the outbox: publish what was parked while the broker was down."""

from celery import shared_task

from . import services


@shared_task(name="taskoutbox.publish_parked", soft_time_limit=120, time_limit=150)
def publish_parked() -> int:
    """Beat, every 30 s: publish parked task calls until the broker refuses again."""
    return services.parked_publish()
