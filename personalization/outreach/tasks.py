"""Celery tasks of outreach: thin, idempotent wrappers (ids in, counts out)."""

from celery import shared_task
from django.db import DatabaseError

from . import planning, sending

RETRYING = {
    "autoretry_for": (DatabaseError, OSError),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
}


@shared_task(name="outreach.plan_campaign", soft_time_limit=600, time_limit=660, **RETRYING)
def plan_campaign(campaign_id: int) -> int:
    """Plan one campaign (idempotent: shoppers planned already are skipped)."""
    return planning.campaign_plan(campaign_id=campaign_id)


@shared_task(name="outreach.plan_due_campaigns", **RETRYING)
def plan_due_campaigns() -> int:
    """Beat: plan scheduled campaigns a lost task left unplanned, and add the shoppers who
    joined the segments of planned campaigns that have not ended. Returns messages added."""
    from .models import Campaign

    ids = list(
        Campaign.objects.filter(status=Campaign.Status.SCHEDULED).values_list("pk", flat=True)
    )
    added = sum(planning.campaign_plan(campaign_id=pk) for pk in ids)
    return added + sum(planning.replan_open_campaigns().values())


@shared_task(name="outreach.send_due", bind=True, soft_time_limit=120, time_limit=150, **RETRYING)
def send_due(self, campaign_id: int | None = None) -> dict:
    """Send what is due (beat runs it every minute); queues itself again while more is due."""
    counts = sending.outbox_send_due(campaign_id=campaign_id)
    if counts.get("more"):
        send_due.apply_async(
            kwargs={"campaign_id": campaign_id},
            queue=self.request.delivery_info.get("routing_key")
            if self.request.delivery_info
            else None,
        )
    return counts


@shared_task(name="outreach.send_test", **RETRYING)
def send_test(campaign_id: int, shopper_id: int, to: str, key: str) -> bool:
    """Send a staff test of a campaign rendered for one shopper (not counted, not logged),
    once per ``key`` (the ``CampaignTestSend`` claim): a retry or a second delivery sends
    nothing. Returns whether it was sent now."""
    from .services import campaign_test_send_deliver

    return campaign_test_send_deliver(
        key=key, campaign_id=campaign_id, shopper_id=shopper_id, to=to
    )
