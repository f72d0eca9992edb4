"""Reads of outreach for pages, the admin and the CRM."""

from django.db.models import QuerySet

from .models import MarketingConsentRecord, OutreachDecision, Subscriber, TopicOptOut


def subscriber_of(user) -> Subscriber | None:
    return Subscriber.objects.filter(user_id=user.pk).first()


def muted_topics(user) -> set[str]:
    return set(TopicOptOut.objects.filter(user_id=user.pk).values_list("topic", flat=True))


def consent_history(user) -> QuerySet[MarketingConsentRecord]:
    return MarketingConsentRecord.objects.filter(user_id=user.pk)


def decisions_for(user, limit: int = 50) -> QuerySet[OutreachDecision]:
    """The shopper's latest outreach decisions with their campaign (CRM, "why" pages)."""
    return OutreachDecision.objects.filter(user_id=user.pk).select_related("campaign")[:limit]


def is_opted_in(user) -> bool:
    return Subscriber.objects.filter(user_id=user.pk, marketing_opt_in=True).exists()
