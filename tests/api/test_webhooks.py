"""Webhooks: signed deliveries to a real local receiver, retries, disabling, SSRF guard,
redelivery from the admin, payload contents and the schema's webhooks section."""

import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from shop.services import order_set_status
from tests.api.conftest import place_order
from tests.api.receiver import Receiver, verify
from tests.factories import ProductFactory, UserFactory
from webhooks import services, transport
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
from webhooks.tasks import send_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True  # the receiver listens on loopback
    settings.WEBHOOKS_TIMEOUT_SECONDS = 5
    with Receiver() as r:
        yield r


def endpoint_for(receiver, events) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.create(url=receiver.url, events=list(events))
    services.endpoints_changed()
    return endpoint


def test_an_order_is_announced_signed_with_ids_and_public_fields_only(
    receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver, ["order.placed", "order.paid"])
    shopper = UserFactory(email="ana.private@example.test")
    product = ProductFactory(price=Decimal("25.00"))

    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(shopper, product, quantity=2)

    assert len(receiver.requests) == 2
    events = {}
    for headers, body in receiver.requests:
        assert verify(endpoint.secret, headers, body), headers
        assert headers["webhook-id"].startswith("msg_")
        assert headers["content-type"] == "application/json"
        event = json.loads(body)
        events[event["type"]] = event
    placed = events["order.placed"]["data"]
    assert placed == {
        "order_id": order.pk,
        "order_number": order.number,
        "customer_id": shopper.pk,
        "status": "paid",
        "total": str(order.total),
        "currency": "EUR",
        "created_at": placed["created_at"],
        "lines": [{"sku": product.variants.get().sku, "quantity": 2, "unit_price": "25.00"}],
    }
    raw = b"".join(body for _, body in receiver.requests)
    for private in (b"ana.private", b"Ana Novak", b"Market", b"10115"):
        assert private not in raw
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_the_verifier_in_the_docs_accepts_our_signature_and_rejects_a_forgery(
    receiver, django_capture_on_commit_callbacks
):
    source = Path("docs/api.md").read_text()
    code = re.search(r"<!-- verify -->\s*```python\n(.*?)```", source, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "docs/api.md", "exec"), namespace)
    endpoint = endpoint_for(receiver, ["customer.created"])
    with django_capture_on_commit_callbacks(execute=True):
        user = UserFactory()
    headers, body = receiver.requests[0]
    event = namespace["verify"](endpoint.secret, headers, body)
    assert event["data"]["customer_id"] == user.pk
    with pytest.raises(ValueError, match="no valid signature"):
        namespace["verify"](endpoint.secret, headers, body.replace(b"}", b" }", 1))


def test_a_rotated_secret_signs_twice_and_both_secrets_verify(
    receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver, ["customer.created"])
    old = endpoint.secret
    endpoint = services.endpoint_rotate_secret(endpoint_id=endpoint.pk)
    assert endpoint.secret != old and endpoint.secret.startswith("whsec_")
    with django_capture_on_commit_callbacks(execute=True):
        UserFactory()
    headers, body = receiver.requests[0]
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify(old, headers, body) and verify(endpoint.secret, headers, body)
    assert not verify("whsec_" + "QUJD" * 8, headers, body)


def test_retry_schedule_spans_about_three_days_then_the_delivery_fails(
    receiver, django_capture_on_commit_callbacks
):
    total = sum(services.RETRY_SCHEDULE, timedelta())
    assert timedelta(hours=66) <= total <= timedelta(hours=78)
    assert services.RETRY_SCHEDULE[0] == timedelta(seconds=5)
    assert sorted(services.RETRY_SCHEDULE) == services.RETRY_SCHEDULE
    endpoint = endpoint_for(receiver, ["customer.created"])
    receiver.statuses = [503] * 20
    with django_capture_on_commit_callbacks(execute=True):
        UserFactory()
    delivery = WebhookDelivery.objects.get()
    waits = []
    while delivery.status == WebhookDelivery.Status.RETRYING:
        waits.append(delivery.next_attempt_at - delivery.last_attempt_at)
        assert send_due() == 0  # not due yet: nothing is sent early
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert send_due() == 1
        delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == len(services.RETRY_SCHEDULE) + 1
    assert len(receiver.requests) == len(services.RETRY_SCHEDULE) + 1
    for wait, planned in zip(waits, services.RETRY_SCHEDULE, strict=True):
        assert abs(wait - planned) < timedelta(seconds=2)
    assert {h["webhook-id"] for h, _ in receiver.requests} == {delivery.message.msg_id}
    assert WebhookAttempt.objects.filter(delivery=delivery, response_status=503).count() == 10
    endpoint.refresh_from_db()
    assert endpoint.is_active  # failing for minutes, not days


@pytest.mark.parametrize(
    ("code", "status", "retried"),
    [
        (400, "failed", False),
        (404, "failed", False),
        (408, "retrying", True),
        (429, "retrying", True),
        (500, "retrying", True),
    ],
)
def test_client_errors_are_not_retried_except_408_and_429(
    receiver, django_capture_on_commit_callbacks, code, status, retried
):
    endpoint_for(receiver, ["customer.created"])
    receiver.statuses = [code]
    with django_capture_on_commit_callbacks(execute=True):
        UserFactory()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == (status, code)
    assert (delivery.next_attempt_at > timezone.now()) is retried


def test_410_gone_disables_the_endpoint_and_emails_staff(
    receiver, django_capture_on_commit_callbacks, mailoutbox
):
    UserFactory(username="boss", is_staff=True, email="boss@agora.test")
    endpoint = endpoint_for(receiver, ["order.status_changed"])
    order = place_order(UserFactory(), ProductFactory())
    receiver.statuses = [410]
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status="shipped")
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "410" in endpoint.disabled_reason
    alerts = [m for m in mailoutbox if m.subject.startswith("Webhook endpoint disabled")]
    assert [m.to for m in alerts] == [["boss@agora.test"]]
    assert endpoint.url in alerts[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status="delivered")
    assert len(receiver.requests) == 1  # a disabled endpoint gets nothing more


def test_an_endpoint_failing_for_three_days_is_disabled_with_an_email(
    receiver, django_capture_on_commit_callbacks, mailoutbox, settings
):
    settings.WEBHOOKS_ALERT_EMAILS = ["ops@agora.test"]
    endpoint = endpoint_for(receiver, ["customer.created"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(hours=73)
    )
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        UserFactory()
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "failed since" in endpoint.disabled_reason
    assert [m.to for m in mailoutbox] == [["ops@agora.test"]]


def test_a_success_clears_the_failure_clock(receiver, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver, ["customer.created"])
    receiver.statuses = [500, 200]
    with django_capture_on_commit_callbacks(execute=True):
        UserFactory()
        UserFactory()
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.is_active


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
        "http://user:pw@example.com/hook",
    ],
)
def test_private_and_metadata_targets_are_refused(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(transport.UnsafeTarget):
        transport.check_url(url)


def test_metadata_stays_refused_even_when_private_targets_are_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    transport.check_url("http://127.0.0.1:9/hook")  # allowed now
    with pytest.raises(transport.UnsafeTarget, match="metadata"):
        transport.check_url("http://169.254.169.254/latest/")


def test_a_target_turning_private_is_refused_at_send_time(
    receiver, settings, django_capture_on_commit_callbacks
):
    endpoint_for(receiver, ["customer.created"])  # saved while allowed (a local receiver)
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False  # now the same address is refused
    with django_capture_on_commit_callbacks(execute=True):
        UserFactory()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.last_error.startswith("Refused target")
    assert receiver.requests == []


def test_the_connected_address_is_checked_too(receiver, settings, monkeypatch):
    """DNS rebinding: the name looked public when checked, the connection went to loopback."""
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    monkeypatch.setattr(transport, "check_url", lambda url: None)  # the check was fooled
    with pytest.raises(transport.UnsafeTarget):
        transport.post(receiver.url, body=b"{}", headers={}, timeout=2)
    assert receiver.requests == []


def test_admin_refuses_a_private_url_and_redelivers_from_the_log(
    receiver, settings, django_capture_on_commit_callbacks, admin_client
):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    refused = admin_client.post(
        "/admin/webhooks/webhookendpoint/add/",
        {"url": "http://10.0.0.5/hook", "events": ["order.placed"], "is_active": "on"},
    )
    assert refused.status_code == 200
    assert b"cannot receive webhooks" in refused.content
    assert not WebhookEndpoint.objects.exists()

    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    with django_capture_on_commit_callbacks(execute=True):
        added = admin_client.post(
            "/admin/webhooks/webhookendpoint/add/",
            {
                "url": receiver.url,
                "events": ["customer.created"],
                "is_active": "on",
                "deliveries-TOTAL_FORMS": "0",
                "deliveries-INITIAL_FORMS": "0",
            },
        )
    assert added.status_code == 302, added.context["adminform"].form.errors
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    with django_capture_on_commit_callbacks(execute=True):
        UserFactory(username="first-customer")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded"

    page = admin_client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200
    assert b"answered 200" in page.content  # the response is in the log
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/webhooks/webhookdelivery/",
            {"action": "redeliver", "_selected_action": [delivery.pk]},
        )
    assert response.status_code == 302
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first[0]["webhook-id"] == second[0]["webhook-id"]
    assert first[1] == second[1]
    assert list(delivery.log.order_by("pk").values_list("redelivery", flat=True)) == [False, True]


def test_events_nobody_wants_write_nothing_and_unknown_events_are_refused():
    assert services.webhook_event_emit(event="order.paid", payload={"order_id": 1}) is None
    assert not WebhookMessage.objects.exists()
    with pytest.raises(services.UnknownEvent):
        services.webhook_event_emit(event="order.teleported", payload={})


def test_a_rolled_back_change_announces_nothing(receiver):
    from django.db import transaction

    endpoint_for(receiver, ["customer.created"])
    with pytest.raises(RuntimeError), transaction.atomic():
        UserFactory()
        raise RuntimeError("the sign-up failed")
    assert not WebhookMessage.objects.exists()
    assert receiver.requests == []


def test_review_published_and_consent_events(receiver, django_capture_on_commit_callbacks):
    from social.reviews.models import Review
    from social.reviews.services import review_create, review_moderate
    from social.services import consent_apply_sign_in, consent_revoke

    endpoint_for(receiver, ["review.published", "consent.granted", "consent.revoked"])
    shopper, staff = UserFactory(), UserFactory(is_staff=True)
    product = ProductFactory()
    with django_capture_on_commit_callbacks(execute=True):
        review = review_create(
            user=shopper, product=product, rating=4, title="Nice", body="Nice and sturdy."
        )
        assert review.status == Review.Status.PENDING  # not a verified buyer: held
        review_moderate(review_id=review.pk, status="approved", actor=staff)
        consent_apply_sign_in(
            user=shopper,
            provider="friendbook",
            granted=["interests"],
            profile={"interests": ["tea"]},
        )
        consent_revoke(user=shopper, category="interests")
    types = [json.loads(body)["type"] for _, body in receiver.requests]
    assert types == ["review.published", "consent.granted", "consent.granted", "consent.revoked"]
    data = [json.loads(body)["data"] for _, body in receiver.requests]
    assert data[0]["review_id"] == review.pk and data[0]["rating"] == 4
    assert sorted(d["category"] for d in data[1:3]) == ["basic", "interests"]
    assert b"tea" not in b"".join(body for _, body in receiver.requests)


def test_schema_documents_every_event_in_the_webhooks_section(client):
    schema = client.get("/api/schema/?format=json").json()
    assert schema["openapi"].startswith("3.1")
    names = set(schema["webhooks"])
    assert {
        "order.placed",
        "order.paid",
        "order.status_changed",
        "order.refunded",
        "consent.granted",
        "consent.revoked",
        "customer.created",
        "customer.erased",
        "segment.entered",
        "segment.left",
        "coupon.issued",
        "coupon.redeemed",
        "review.published",
    } <= names
    post = schema["webhooks"]["order.placed"]["post"]
    assert [p["name"] for p in post["parameters"]] == [
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    ]
