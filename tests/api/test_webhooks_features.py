"""The events of the features that landed, end to end: the real action (a segment refresh, a
coupon issued by staff and redeemed at checkout, an account erased) ends in a signed delivery
at a real local receiver, verified as the Standard Webhooks specification says."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from personalization.loyalty.services import coupon_issue
from personalization.segments.services import segment_create, segments_refresh
from privacy.models import ErasureRequest
from privacy.services import erasure_request, erasure_run
from tests.api.receiver import Receiver, verify
from tests.factories import UserFactory
from tests.loyalty.conftest import buy
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

NEW_SHOPPERS = {"op": "and", "rules": [{"type": "new_shopper", "params": {"days": 30}}]}


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True  # the receiver listens on loopback
    settings.WEBHOOKS_TIMEOUT_SECONDS = 5
    with Receiver() as r:
        yield r


def listen(receiver, *events) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.create(url=receiver.url, events=list(events))
    services.endpoints_changed()
    return endpoint


def received(receiver, endpoint) -> list[dict]:
    """The verified events, in arrival order (any bad signature fails the test)."""
    events = []
    for headers, body in receiver.requests:
        assert verify(endpoint.secret, headers, body), headers
        events.append(json.loads(body))
    return events


def test_segment_entered_and_left_are_delivered_per_customer(
    receiver, django_capture_on_commit_callbacks
):
    endpoint = listen(receiver, "segment.entered", "segment.left")
    ana = UserFactory(email="ana.secret@example.test")
    old = UserFactory(date_joined=timezone.now() - timedelta(days=400))
    segment = segment_create(name="New shoppers", slug="api-new-joiners", rules=NEW_SHOPPERS)

    with django_capture_on_commit_callbacks(execute=True):
        result = segments_refresh(segment_ids=[segment.pk])
    assert result.entered == 1  # precondition: the refresh really moved Ana in
    events = received(receiver, endpoint)
    assert [(e["type"], e["data"]["customer_id"]) for e in events] == [("segment.entered", ana.pk)]
    assert events[0]["data"]["segment_slug"] == "api-new-joiners"
    assert events[0]["data"]["segment_id"] == segment.pk
    assert old.pk not in [e["data"]["customer_id"] for e in events]

    get_user_model().objects.filter(pk=ana.pk).update(
        date_joined=timezone.now() - timedelta(days=90)
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = segments_refresh(segment_ids=[segment.pk])
    assert result.left == 1
    events = received(receiver, endpoint)
    assert [(e["type"], e["data"]["customer_id"]) for e in events][1:] == [("segment.left", ana.pk)]
    assert b"ana.secret" not in b"".join(body for _, body in receiver.requests)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_no_listener_no_rows(django_capture_on_commit_callbacks):
    """Nobody subscribed: a refresh writes no webhook message at all."""
    UserFactory()
    segment = segment_create(name="New shoppers", slug="api-new-joiners", rules=NEW_SHOPPERS)
    with django_capture_on_commit_callbacks(execute=True):
        assert segments_refresh(segment_ids=[segment.pk]).entered == 1
    from webhooks.models import WebhookMessage

    assert not WebhookMessage.objects.exists()


def test_coupon_issued_then_redeemed_at_checkout(receiver, django_capture_on_commit_callbacks):
    endpoint = listen(receiver, "coupon.issued", "coupon.redeemed")
    shopper = UserFactory()
    from tests.factories import ShippingMethodFactory

    shipping = ShippingMethodFactory()
    with django_capture_on_commit_callbacks(execute=True):
        coupon = coupon_issue(
            reason="Sorry about the late parcel",
            benefit_type="percentage",
            benefit_value=Decimal("10"),
            owner=shopper,
        )
    with django_capture_on_commit_callbacks(execute=True):
        order = buy(user=shopper, shipping=shipping, price="30.00", codes=[coupon.code])
    assert order.discount_total == Decimal("3.00")  # precondition: the code was really used
    events = received(receiver, endpoint)
    assert [e["type"] for e in events] == ["coupon.issued", "coupon.redeemed"]
    issued, redeemed = (e["data"] for e in events)
    assert issued["coupon_id"] == coupon.pk and issued["customer_id"] == shopper.pk
    assert redeemed == {
        "coupon_id": coupon.pk,
        "customer_id": shopper.pk,
        "order_number": order.number,
        "at": redeemed["at"],
    }
    assert coupon.code.encode() not in b"".join(body for _, body in receiver.requests)


def test_customer_erased_is_delivered_after_the_erasure(
    receiver, django_capture_on_commit_callbacks
):
    endpoint = listen(receiver, "customer.erased")
    shopper = UserFactory(email="quentin.private@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        erasure = erasure_request(user=shopper)  # grace 0: runs at once (eager task)
        erasure_run(erasure_id=erasure.pk)
    erasure.refresh_from_db()
    assert erasure.status == ErasureRequest.Status.DONE
    events = received(receiver, endpoint)
    assert [e["type"] for e in events] == ["customer.erased"]
    assert events[0]["data"]["customer_id"] == shopper.pk
    assert b"quentin" not in b"".join(body for _, body in receiver.requests)
