"""Thin Celery tasks: take ids, load, call one service."""

from celery import shared_task

from . import emails


@shared_task(bind=True, max_retries=5, retry_backoff=True, acks_late=True)
def send_order_confirmation(self, order_id: int) -> None:
    try:
        emails.send_order_confirmation(order_id=order_id)
    except OSError as exc:  # SMTP server unreachable: try again later
        raise self.retry(exc=exc) from exc


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
