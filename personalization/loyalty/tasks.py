"""Thin Celery tasks for loyalty."""

from celery import shared_task


@shared_task(acks_late=True)
def issue_loyalty_coupons() -> dict:
    """Refresh every shopper's figures and issue the earned coupons that are due. Idempotent:
    a retried or duplicated run issues nothing twice (see services.coupons_issue_earned)."""
    from .services import coupons_issue_earned

    result = coupons_issue_earned()
    return {"candidates": result.candidates, "issued": result.issued, "held": result.held_by_cap}


@shared_task(acks_late=True)
def refresh_loyalty(user_ids: list[int] | None = None) -> int:
    from .services import loyalty_refresh

    return loyalty_refresh(user_ids=user_ids)
