"""Thin Celery tasks: deliver, redeliver, sweep due retries, alert staff."""

from celery import shared_task

from . import services

# acks_late + reject_on_worker_lost (settings, and said here because recovery depends on them):
# a worker that dies mid-send gives the message back, and its second run (same task id) takes
# the delivery's claim over at once (``services._claim``).
RECOVERING = {"ignore_result": True, "acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="webhooks.deliver", bind=True, **RECOVERING)
def deliver(self, delivery_id: int) -> None:
    services.delivery_attempt(delivery_id=delivery_id, claim=self.request.id or "")


@shared_task(name="webhooks.redeliver", bind=True, **RECOVERING)
def redeliver(self, delivery_id: int) -> None:
    services.delivery_attempt(delivery_id=delivery_id, redelivery=True, claim=self.request.id or "")


@shared_task(name="webhooks.send_due", ignore_result=True)
def send_due() -> int:
    """Every minute (beat): retries whose time has come, and sends a dead worker left."""
    services.deliveries_release_stuck()
    ids = services.deliveries_due()
    for pk in ids:
        deliver.delay(pk)
    return len(ids)


@shared_task(
    name="webhooks.notify_endpoint_disabled",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=8,
)
def notify_endpoint_disabled(endpoint_id: int) -> int:
    """Email staff that the endpoint was disabled; once per disabling however often it runs
    (``services.endpoint_disabled_email`` claims the row). SMTP down: retried."""
    return services.endpoint_disabled_email(endpoint_id=endpoint_id)
