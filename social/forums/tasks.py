"""Thin Celery tasks: take ids, load, call one service."""

from celery import shared_task


@shared_task(acks_late=True)
def analyse_post(post_id: int) -> bool:
    from social.textsignals.services import text_signal_store

    from .models import Post

    return text_signal_store(model=Post, pk=post_id, source="forum_post")


@shared_task(bind=True, max_retries=5, retry_backoff=True, acks_late=True)
def send_notification_emails(self, notification_ids: list[int]) -> int:
    from .notifications import send_emails

    try:
        return send_emails(notification_ids=notification_ids)
    except OSError as exc:  # SMTP server unreachable: try again later
        raise self.retry(exc=exc) from exc
