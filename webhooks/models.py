"""Webhook endpoints, the messages emitted for them, and every delivery attempt.

- ``WebhookEndpoint``: a URL staff registered, the events it wants and its signing secrets.
- ``WebhookMessage``: one emitted event (``msg_…`` id, type, JSON payload); the id stays the
  same across retries and redeliveries, so receivers can drop duplicates.
- ``WebhookDelivery``: a message for one endpoint, with its state and next attempt time;
  unique per (endpoint, message), claimed by a conditional update so two workers never send it
  twice at once.
- ``WebhookAttempt``: one HTTP request and its response (or error): the delivery log.
"""

import base64
import secrets

from django.db import models
from django.utils import timezone

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes (the Standard Webhooks secret format)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _forget_subscriptions() -> None:
    """After commit, emitting re-reads which events have endpoints (services.subscribed_events)."""
    from django.db import transaction

    from .services import endpoints_changed

    transaction.on_commit(endpoints_changed)


class WebhookEndpoint(models.Model):
    url = models.URLField("URL", max_length=500, help_text="Where events are POSTed (https).")
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="The event types sent to this endpoint.")
    secret = models.CharField(max_length=100, default=new_secret)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    disabled_emailed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When staff were emailed about the last disabling (the alert's claim).",
    )
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failure since the last success."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["url", "pk"]

    def __str__(self):
        return self.url

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        _forget_subscriptions()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        _forget_subscriptions()
        return result

    def signing_secrets(self, *, now=None) -> list[str]:
        """The current secret, and the previous one while it is still honoured (rotation)."""
        now = now or timezone.now()
        found = [self.secret]
        if self.previous_secret and (
            self.previous_secret_expires_at is None or self.previous_secret_expires_at > now
        ):
            found.append(self.previous_secret)
        return found


class WebhookMessage(models.Model):
    msg_id = models.CharField(max_length=40, unique=True)
    event = models.CharField(max_length=60, db_index=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.event} {self.msg_id}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Waiting to retry"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, related_name="deliveries", on_delete=models.CASCADE
    )
    message = models.ForeignKey(WebhookMessage, related_name="deliveries", on_delete=models.CASCADE)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts in the current round.")
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    # The Celery task id of the attempt in flight ('sending'): the same message delivered
    # again (acks_late + reject_on_worker_lost after its worker died) may take the claim over.
    claimed_by = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "message"], name="one_delivery_per_endpoint"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.message.event} → {self.endpoint.url} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, related_name="log", on_delete=models.CASCADE)
    attempted_at = models.DateTimeField(default=timezone.now)
    request_url = models.CharField(max_length=500)
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict)
    response_body = models.TextField(blank=True, help_text="The first 4 KB.")
    error = models.CharField(max_length=255, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    redelivery = models.BooleanField(default=False)

    class Meta:
        ordering = ["-attempted_at", "-pk"]

    def __str__(self):
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.response_status or self.error}"
