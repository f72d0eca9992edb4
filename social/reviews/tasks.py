"""Thin Celery tasks: take ids, load, call one service."""

from celery import shared_task


@shared_task(acks_late=True)
def analyse_review(review_id: int) -> bool:
    from social.textsignals.services import text_signal_store

    from .models import Review

    return text_signal_store(model=Review, pk=review_id, source="review")
