"""Thin Celery tasks: take ids, load, call one service."""

from datetime import timedelta

from celery import shared_task

from . import emails


@shared_task(bind=True, max_retries=5, retry_backoff=True, acks_late=True)
def send_order_confirmation(self, order_id: int) -> None:
    try:
        emails.send_order_confirmation(order_id=order_id)
    except OSError as exc:  # SMTP server unreachable: try again later
        raise self.retry(exc=exc) from exc


@shared_task
def send_pending_confirmations(older_than_seconds: int = 120) -> int:
    """Beat sweep: send every confirmation still owed ``older_than_seconds`` after its order
    (the broker was down when the order was placed, a worker died, or the mail server stayed
    down past the task's retries); returns how many went out. Safe beside the normal task:
    rows are locked while sent."""
    sent = 0
    owed = emails.pending_confirmation_ids(older_than=timedelta(seconds=older_than_seconds))
    for order_id in owed:
        try:
            sent += emails.send_order_confirmation(order_id=order_id)
        except OSError:  # the mail server is still down: the next sweep tries again
            break
    return sent


@shared_task(bind=True, max_retries=5, retry_backoff=True, acks_late=True)
def send_order_status_email(self, order_id: int) -> None:
    try:
        emails.send_order_status(order_id=order_id)
    except OSError as exc:
        raise self.retry(exc=exc) from exc


@shared_task
def reindex_products(product_ids: list[int] | None = None) -> int:
    from .services import product_reindex

    return product_reindex(product_ids=product_ids)
