"""Bounces, complaints and unsubscribe emails reported back by the email provider.

django-anymail turns each provider's webhooks (wired in ``urls.py`` under ``/anymail/``, HTTP
basic auth with ``ANYMAIL["WEBHOOK_SECRET"]``) into ``tracking`` and ``inbound`` signals; see
docs/outreach.md. Signals only carry the news here; the services decide. Without a webhook
secret anyone could post to those URLs, so their events are then ignored (and
``check --deploy`` warns).
"""

import logging

from django.conf import settings
from django.core import checks
from django.dispatch import receiver

logger = logging.getLogger(__name__)

# Provider bounce types that anymail reports as "bounced" but that are temporary refusals
# (retried by the provider): they never suppress. (Postmark's bounce "Type" field.)
SOFT_BOUNCE_TYPES = {("postmark", "SoftBounce"), ("postmark", "Transient")}

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


def webhook_secret_set() -> bool:
    """True when the provider webhooks check a basic-auth secret (``ANYMAIL["WEBHOOK_SECRET"]``)."""
    return bool((getattr(settings, "ANYMAIL", None) or {}).get("WEBHOOK_SECRET"))


def is_soft_bounce(*, esp_name: str, esp_event) -> bool:
    """True for a provider bounce report that is a temporary refusal (``SOFT_BOUNCE_TYPES``)."""
    kind = esp_event.get("Type") if isinstance(esp_event, dict) else None
    return ((esp_name or "").lower(), kind) in SOFT_BOUNCE_TYPES


@checks.register(checks.Tags.security, deploy=True)
def check_webhook_secret(app_configs=None, **kwargs):
    """Deploy check: when mail goes through an email provider (an anymail backend), its
    bounce/complaint webhooks need their basic-auth secret. Plain SMTP has no such webhooks."""
    backends = (settings.EMAIL_BACKEND, getattr(settings, "OUTREACH_EMAIL_BACKEND", "") or "")
    if webhook_secret_set() or not any(b.startswith("anymail.") for b in backends):
        return []
    return [
        checks.Warning(
            "The email provider's bounce and complaint webhooks have no secret, so their "
            "events are ignored.",
            hint='Set ANYMAIL_WEBHOOK_SECRET ("user:password") and use it in the webhook URL.',
            id="outreach.W001",
        )
    ]


if tracking is not None:

    @receiver(tracking, dispatch_uid="outreach_tracking")
    def _on_tracking(sender, event, esp_name, **kwargs):
        if not webhook_secret_set():
            logger.warning("Ignored an unauthenticated %s webhook: no webhook secret", esp_name)
            return
        if event.event_type == "bounced" and is_soft_bounce(
            esp_name=esp_name, esp_event=event.esp_event
        ):
            return
        tracking_event(
            event_type=event.event_type,
            recipient=event.recipient or "",
            description=event.description or event.mta_response or "",
        )

    @receiver(inbound, dispatch_uid="outreach_inbound")
    def _on_inbound(sender, event, esp_name, **kwargs):
        if not webhook_secret_set():
            logger.warning("Ignored an unauthenticated %s webhook: no webhook secret", esp_name)
            return
        message = event.message
        if message is not None:
            inbound_unsubscribe(subject=message.get("Subject", ""))
