"""Bounces, complaints and unsubscribe emails reported back by the email provider.

django-anymail turns each provider's webhooks into ``tracking`` and ``inbound`` signals (add
``path("anymail/", include("anymail.urls"))`` and the provider's webhook secret to use them,
see docs/outreach.md). Signals only carry the news here; the services decide.
"""

from django.dispatch import receiver

try:
    from anymail.signals import inbound, tracking
except ImportError:  # pragma: no cover
    inbound = tracking = None


def tracking_event(*, event_type: str, recipient: str, description: str = "") -> str | None:
    """Apply one provider tracking event: "bounced" and "complained" suppress the address.

    Returns the suppression reason applied, or None when the event needs nothing.
    """
    from .models import Suppression
    from .services import suppression_add

    reason = {
        "bounced": Suppression.Reason.HARD_BOUNCE,
        "complained": Suppression.Reason.COMPLAINT,
    }.get(event_type)
    if reason is None or not recipient:
        return None
    suppression_add(
        email=recipient, reason=reason, source=Suppression.Source.WEBHOOK, detail=description
    )
    return reason


def inbound_unsubscribe(*, subject: str) -> bool:
    """An email to the List-Unsubscribe mailto address: "unsubscribe <token>" in the subject."""
    from .models import MarketingConsentRecord
    from .services import message_for_token, unsubscribe_one_click

    parts = (subject or "").split()
    if len(parts) != 2 or parts[0].lower() != "unsubscribe":
        return False
    message = message_for_token(parts[1])
    if message is None:
        return False
    unsubscribe_one_click(message=message, source=MarketingConsentRecord.Source.MAILTO)
    return True


if tracking is not None:

    @receiver(tracking, dispatch_uid="outreach_tracking")
    def _on_tracking(sender, event, esp_name, **kwargs):
        tracking_event(
            event_type=event.event_type,
            recipient=event.recipient or "",
            description=event.description or event.mta_response or "",
        )

    @receiver(inbound, dispatch_uid="outreach_inbound")
    def _on_inbound(sender, event, esp_name, **kwargs):
        message = event.message
        if message is not None:
            inbound_unsubscribe(subject=message.get("Subject", ""))
