"""Thin Celery tasks: deliver, redeliver, sweep due retries, alert staff."""

from celery import shared_task

from . import services


@shared_task(name="webhooks.deliver", ignore_result=True)
def deliver(delivery_id: int) -> None:
    services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="webhooks.redeliver", ignore_result=True)
def redeliver(delivery_id: int) -> None:
    services.delivery_attempt(delivery_id=delivery_id, redelivery=True)


@shared_task(name="webhooks.send_due", ignore_result=True)
def send_due() -> int:
    """Every minute (beat): retries whose time has come, and sends a dead worker left."""
    services.deliveries_release_stuck()
    ids = services.deliveries_due()
    for pk in ids:
        deliver.delay(pk)
    return len(ids)


@shared_task(name="webhooks.notify_endpoint_disabled", ignore_result=True)
def notify_endpoint_disabled(endpoint_id: int) -> None:
    services.endpoint_disabled_email(endpoint_id=endpoint_id)
