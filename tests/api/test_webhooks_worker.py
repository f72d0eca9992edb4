"""Webhooks through a real Celery worker (subprocess) on Redis and PostgreSQL: an order placed
in a committed transaction is delivered, signed, by the worker after commit."""

import json
from decimal import Decimal

import pytest

from tests.api.conftest import place_order
from tests.api.receiver import Receiver, verify
from tests.factories import ProductFactory, UserFactory
from tests.workers import celery_workers
from tests.workers import wait_for as _wait_for
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]


def test_a_real_worker_delivers_an_order_after_commit(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    env = {"WEBHOOKS_ALLOW_PRIVATE_TARGETS": "1"}
    with celery_workers(settings, prefix="webhooks-test", queue=None, env=env) as (start, _):
        start()
        with Receiver() as receiver:
            endpoint = WebhookEndpoint.objects.create(
                url=receiver.url, events=["order.placed", "order.paid"]
            )
            services.endpoints_changed()
            order = place_order(UserFactory(), ProductFactory(price=Decimal("12.00")))
            assert WebhookDelivery.objects.filter(message__event="order.placed").exists()
            delivered = _wait_for(
                lambda: WebhookDelivery.objects.filter(status="succeeded").count() == 2
            )
            assert delivered, list(WebhookDelivery.objects.values("status", "last_error"))
            assert len(receiver.requests) == 2
            for headers, body in receiver.requests:
                assert verify(endpoint.secret, headers, body)
                assert json.loads(body)["data"]["order_number"] == order.number
