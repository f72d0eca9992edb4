"""Webhooks through a real Celery worker (subprocess) on Redis and PostgreSQL: an order placed
in a committed transaction is delivered, signed, by the worker after commit."""

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from config.celery import app
from tests.api.conftest import place_order
from tests.api.receiver import Receiver, verify
from tests.factories import ProductFactory, UserFactory
from tests.personalization.test_celery_worker import _database_url
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]
BASE_DIR = Path(__file__).resolve().parents[2]


def _wait_for(predicate, timeout=60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_real_worker_delivers_an_order_after_commit(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    app.conf.task_always_eager = False
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            "webhooks-test@%h",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
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
    finally:
        app.conf.task_always_eager = True
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(5)
