"""Emitting webhook events and delivering them.

``webhook_event_emit`` is what every feature calls. Call it inside the service's transaction:
the message and its deliveries are rows written with the change they announce (nothing is
sent for a rolled-back change), and the deliveries are queued to Celery after commit.

Delivery (``delivery_attempt``, run by the ``deliver`` task):
- a delivery is claimed by a conditional UPDATE (pending/retrying and due → sending), so two
  workers never send the same delivery at once, then sent outside any transaction;
- 2xx: delivered. 410 Gone: the endpoint is disabled. Other 4xx except 408 and 429: failed, not
  retried (the receiver refused it). 408, 429, 5xx, timeouts and connection errors: retried
  after ``RETRY_SCHEDULE`` (about three days in all), then failed;
- an endpoint failing without a single success for ``WEBHOOKS_DISABLE_AFTER`` is disabled and
  staff get an email;
- a target refused by the SSRF guard fails at once (not retried).
"""

import json
import logging
import time
import uuid
from datetime import timedelta

import requests
from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.aftercommit import cache_fill
from config.cache import cache_forget

from . import registry, signing, transport
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage

logger = logging.getLogger("agora.webhooks")

# Delay before attempt n+1 after n failed attempts (Standard Webhooks suggests a schedule like
# this one: seconds, minutes, hours). Total ≈ 71.6 hours, about three days.
RETRY_SCHEDULE = [
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=20),
]
SUBSCRIBED_KEY = "webhooks:subscribed_events"
RESPONSE_BODY_LIMIT = 4096


class UnknownEvent(ValueError):
    pass


def _timeout() -> float:
    return float(getattr(settings, "WEBHOOKS_TIMEOUT_SECONDS", 10))


def _disable_after() -> timedelta:
    return timedelta(hours=float(getattr(settings, "WEBHOOKS_DISABLE_AFTER_HOURS", 72)))


def subscribed_events() -> frozenset[str]:
    """Event types at least one active endpoint wants (cached until an endpoint changes), so
    emitting an event nobody listens to costs one cache read."""
    events = cache.get(SUBSCRIBED_KEY)
    if events is None:
        events = frozenset(
            e
            for row in WebhookEndpoint.objects.filter(is_active=True).values_list(
                "events", flat=True
            )
            for e in (row or [])
        )
        cache_fill(SUBSCRIBED_KEY, events, 300)
    return events


def endpoints_changed() -> None:
    """Forget which events have subscribers (called after commit)."""
    cache_forget([SUBSCRIBED_KEY])


def webhook_event_emit(*, event: str, payload: dict) -> WebhookMessage | None:
    """Announce ``event`` with ``payload`` (ids and public fields only; JSON-serialisable with
    Django's encoder: Decimal and datetime become strings).

    Writes one WebhookMessage and one WebhookDelivery per active endpoint subscribed to the
    event, in the caller's transaction; delivery is queued after commit. Returns the message,
    or None when no endpoint listens. Raises UnknownEvent for an unregistered event type.
    """
    if registry.get(event) is None:
        raise UnknownEvent(f"Unregistered webhook event {event!r}; see webhooks/registry.py.")
    if event not in subscribed_events():
        return None
    with transaction.atomic():
        endpoints = list(
            WebhookEndpoint.objects.filter(is_active=True, events__contains=[event]).only("pk")
            if _json_contains_supported()
            else [e for e in WebhookEndpoint.objects.filter(is_active=True) if event in e.events]
        )
        if not endpoints:
            return None
        now = timezone.now()
        data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
        message = WebhookMessage.objects.create(
            msg_id=f"msg_{uuid.uuid4().hex}", event=event, payload=data, created_at=now
        )
        deliveries = WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(endpoint=e, message=message, next_attempt_at=now) for e in endpoints]
        )
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: _enqueue(ids))
    return message


def webhook_events_emit(*, event: str, payloads: list[dict]) -> int:
    """Announce ``event`` once per payload, set-based: for a refresh that moves thousands of
    customers (segment.entered) this is three INSERTs, not one per customer.

    Same guarantees as ``webhook_event_emit`` (rows in the caller's transaction, deliveries
    queued after commit, nothing written when no endpoint listens). Returns the number of
    messages written. Raises UnknownEvent for an unregistered event type.
    """
    if registry.get(event) is None:
        raise UnknownEvent(f"Unregistered webhook event {event!r}; see webhooks/registry.py.")
    if not payloads or event not in subscribed_events():
        return 0
    with transaction.atomic():
        endpoints = list(
            WebhookEndpoint.objects.filter(is_active=True, events__contains=[event]).only("pk")
            if _json_contains_supported()
            else [e for e in WebhookEndpoint.objects.filter(is_active=True) if event in e.events]
        )
        if not endpoints:
            return 0
        now = timezone.now()
        messages = WebhookMessage.objects.bulk_create(
            [
                WebhookMessage(
                    msg_id=f"msg_{uuid.uuid4().hex}",
                    event=event,
                    payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
                    created_at=now,
                )
                for payload in payloads
            ],
            batch_size=2000,
        )
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(endpoint=e, message=m, next_attempt_at=now)
                for m in messages
                for e in endpoints
            ],
            batch_size=2000,
        )
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: _enqueue(ids))
    return len(messages)


def _json_contains_supported() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _enqueue(delivery_ids, countdown: float | None = None) -> None:
    from .tasks import deliver

    for pk in delivery_ids:
        if countdown:
            deliver.apply_async(args=[pk], countdown=countdown)
        else:
            deliver.delay(pk)


def body_for(message: WebhookMessage) -> bytes:
    """The request body: ``{"type", "timestamp", "data"}`` as the Standard Webhooks payload
    structure recommends."""
    return json.dumps(
        {
            "type": message.event,
            "timestamp": message.created_at.isoformat().replace("+00:00", "Z"),
            "data": message.payload,
        },
        separators=(",", ":"),
    ).encode()


def retry_delay(attempts: int) -> timedelta | None:
    """The wait after ``attempts`` failed attempts, or None when the schedule is exhausted."""
    return RETRY_SCHEDULE[attempts - 1] if 1 <= attempts <= len(RETRY_SCHEDULE) else None


def _claim(delivery_id: int, *, force: bool, claim: str = "") -> bool:
    """Mark the delivery 'sending' for this attempt, in one conditional UPDATE; True if taken.

    Free to take: a due pending/retrying delivery (``force``: any that is not 'sending'), or a
    'sending' one whose claim is ``claim`` itself. A task's id is its claim, and the broker
    hands the *same* message (same id) back only once the worker running it is gone (acks_late
    + reject_on_worker_lost: at once when a pool process dies; after the visibility timeout,
    which is far longer than the task time limit, when the whole worker died), so taking over
    one's own claim never doubles a live send. Another task for the delivery finds it taken.
    """
    now = timezone.now()
    S = WebhookDelivery.Status
    if force:
        free = ~Q(status=S.SENDING)
    else:
        free = Q(status__in=[S.PENDING, S.RETRYING], next_attempt_at__lte=now)
    if claim:
        free |= Q(status=S.SENDING, claimed_by=claim)
    qs = WebhookDelivery.objects.filter(free, pk=delivery_id, endpoint__is_active=True)
    return qs.update(status=S.SENDING, last_attempt_at=now, claimed_by=claim[:64]) == 1


def delivery_attempt(
    *, delivery_id: int, redelivery: bool = False, claim: str = ""
) -> WebhookDelivery | None:
    """Send one delivery now if it is due (or at once for a redelivery); record the attempt and
    decide what comes next. Returns the delivery, or None when it was not due or taken.

    ``claim``: the calling task's id (see ``_claim``): a worker killed mid-send is recovered as
    soon as the broker delivers its task again, not only by the stale sweep
    (``deliveries_release_stuck``). At least once: the receiver may get the request twice,
    with the same ``webhook-id`` (its idempotency key)."""
    if not _claim(delivery_id, force=redelivery, claim=claim):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint", "message").get(pk=delivery_id)
    endpoint, message = delivery.endpoint, delivery.message
    body = body_for(message)
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "Agora-Webhooks/1.0",
        **signing.headers(
            secrets=endpoint.signing_secrets(),
            msg_id=message.msg_id,
            timestamp=timestamp,
            body=body,
        ),
    }
    started = time.monotonic()
    response, error, retryable = None, "", True
    try:
        response = transport.post(endpoint.url, body=body, headers=headers, timeout=_timeout())
    except transport.UnsafeTarget as exc:
        error, retryable = f"Refused target: {exc}", False
    except requests.Timeout:
        error = f"Timed out after {_timeout():g} s"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:255]
    duration = int((time.monotonic() - started) * 1000)
    logged_headers = {**headers, "webhook-signature": headers["webhook-signature"]}
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            request_url=endpoint.url,
            request_headers=logged_headers,
            request_body=body.decode(),
            response_status=response.status_code if response is not None else None,
            response_headers=dict(response.headers) if response is not None else {},
            response_body=response.text[:RESPONSE_BODY_LIMIT] if response is not None else "",
            error=error[:255],
            duration_ms=duration,
            redelivery=redelivery,
        )
        return _conclude(delivery, response=response, error=error, retryable=retryable)


def _conclude(delivery, *, response, error: str, retryable: bool) -> WebhookDelivery:
    S = WebhookDelivery.Status
    now = timezone.now()
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    delivery.attempts += 1
    delivery.last_status_code = response.status_code if response is not None else None
    delivery.last_error = error[:255]
    code = delivery.last_status_code
    if code is not None and 200 <= code < 300:
        delivery.status = S.SUCCEEDED
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
            endpoint.save(update_fields=["failing_since"])
        delivery.save()
        return delivery
    if code == 410:
        delivery.status = S.FAILED
        delivery.save()
        _disable(endpoint, reason="The receiver answered 410 Gone.", now=now)
        return delivery
    if code is not None and 400 <= code < 500 and code not in (408, 429):
        retryable = False
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since"])
    delay = retry_delay(delivery.attempts) if retryable else None
    if delay is None:
        delivery.status = S.FAILED
    else:
        delivery.status = S.RETRYING
        delivery.next_attempt_at = now + delay
        if delay <= timedelta(seconds=60):
            pk, seconds = delivery.pk, delay.total_seconds()
            transaction.on_commit(lambda: _enqueue([pk], countdown=seconds))
    delivery.save()
    if now - endpoint.failing_since >= _disable_after():
        _disable(
            endpoint,
            reason=f"Every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC.",
            now=now,
        )
    return delivery


def _disable(endpoint: WebhookEndpoint, *, reason: str, now) -> None:
    if not endpoint.is_active:
        return
    endpoint.is_active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = reason[:255]
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    transaction.on_commit(endpoints_changed)
    from .tasks import notify_endpoint_disabled

    pk = endpoint.pk
    transaction.on_commit(lambda: notify_endpoint_disabled.delay(pk))


def endpoint_disabled_email(*, endpoint_id: int) -> int:
    """Email staff that an endpoint was disabled, once per disabling; returns the number of
    recipients emailed now (0: not disabled any more, emailed already, or nobody to tell).

    Recipients: WEBHOOKS_ALERT_EMAILS, else every active staff user with an address. The
    endpoint row is locked (SKIP LOCKED) while the email goes out and ``disabled_emailed_at``
    is set in the same transaction, so a retried or twice-delivered task sends nothing twice;
    an SMTP failure (``OSError``) rolls back and leaves it owed. Disabled again after being
    re-enabled (``disabled_at`` later than the last email), it is owed again.
    """
    from django.contrib.auth import get_user_model
    from django.core.mail import send_mail
    from django.db.models import F

    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update(skip_locked=True)
            .filter(pk=endpoint_id, is_active=False, disabled_at__isnull=False)
            .filter(
                Q(disabled_emailed_at__isnull=True) | Q(disabled_emailed_at__lt=F("disabled_at"))
            )
            .first()
        )
        if endpoint is None:
            return 0
        recipients = list(getattr(settings, "WEBHOOKS_ALERT_EMAILS", []) or [])
        if not recipients:
            recipients = list(
                get_user_model()
                .objects.filter(is_staff=True, is_active=True)
                .exclude(email="")
                .values_list("email", flat=True)
            )
        if not recipients:
            return 0
        send_mail(
            subject=f"Webhook endpoint disabled: {endpoint.url}",
            message=(
                f"The webhook endpoint {endpoint.url} was disabled.\n\nWhy: "
                f"{endpoint.disabled_reason}\n\nFix the receiver, then re-enable it in the admin "
                f"({settings.SITE_URL}/admin/webhooks/webhookendpoint/{endpoint.pk}/change/) and "
                "redeliver the failed messages from its delivery log."
            ),
            from_email=None,
            recipient_list=recipients,
        )
        # .update(): no save(), so the subscriptions cache is not forgotten for a timestamp.
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(disabled_emailed_at=timezone.now())
    return len(recipients)


def delivery_redeliver(*, delivery_id: int) -> None:
    """Send a delivery again after commit, whatever its state (the admin's "redeliver")."""
    from .tasks import redeliver

    WebhookDelivery.objects.filter(pk=delivery_id).exclude(
        status=WebhookDelivery.Status.SENDING
    ).update(attempts=0)
    transaction.on_commit(lambda: redeliver.delay(delivery_id))


def deliveries_due(*, limit: int = 500) -> list[int]:
    """Ids of deliveries waiting whose time has come (the sweeper's work list)."""
    return list(
        WebhookDelivery.objects.filter(
            endpoint__is_active=True,
            status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING],
            next_attempt_at__lte=timezone.now(),
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def deliveries_release_stuck() -> int:
    """A worker that died mid-send leaves a delivery 'sending'; put it back in the queue."""
    stale = timezone.now() - timedelta(seconds=_timeout() * 3 + 60)
    return WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.SENDING, last_attempt_at__lt=stale
    ).update(status=WebhookDelivery.Status.RETRYING)


@transaction.atomic
def endpoint_rotate_secret(*, endpoint_id: int, keep_previous_hours: float = 24) -> WebhookEndpoint:
    """New secret; the old one still signs (second signature) for ``keep_previous_hours``."""
    from .models import new_secret

    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + timedelta(hours=keep_previous_hours)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return endpoint


@transaction.atomic
def endpoint_enable(*, endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    endpoint.is_active = True
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.failing_since = None
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "failing_since"])
    transaction.on_commit(endpoints_changed)
    return endpoint
