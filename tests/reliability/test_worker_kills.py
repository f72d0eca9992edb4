"""A Celery worker SIGKILLed mid-task (issue 16, Faults): a segment refresh killed inside its
transaction and a webhook killed mid-request. A new worker finishes the work: nothing is lost
and nothing is done twice. Real worker subprocesses, PostgreSQL, Redis and an HTTP receiver.
"""

import json
import threading
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from personalization.segments import services as segments
from personalization.segments.models import SegmentMembership, SegmentMembershipHistory
from personalization.segments.tasks import refresh_segments
from tests.api.receiver import Receiver, verify
from tests.factories import UserFactory
from tests.workers import celery_workers, database_url, wait_for
from webhooks import services as webhooks
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
from webhooks.tasks import deliver, send_due

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]

NEW_SHOPPERS = {"op": "and", "rules": [{"type": "new_shopper", "params": {"days": 30}}]}
# Redis hands an unacknowledged (acks_late) task back after this many seconds (an hour in
# production); the workers here listen on the default queue, where webhook deliveries go.
WORKER_ENV = {"WEBHOOKS_ALLOW_PRIVATE_TARGETS": "1", "CELERY_VISIBILITY_TIMEOUT": "5"}


@pytest.fixture
def workers(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True  # the receiver listens on loopback
    with celery_workers(settings, prefix="kills", queue=None, env=WORKER_ENV) as (start, _):
        yield start


def _scalar(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        return row[0] if row else None


def _backend_waiting_on(table: str):
    """The pid of a PostgreSQL backend waiting for a lock on a statement naming ``table``."""
    return _scalar(
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
        [f"%{table}%"],
    )


def _history(segment):
    rows = SegmentMembershipHistory.objects.filter(segment=segment)
    return sorted(rows.values_list("segment_id", "user_id", "action"))


def _ours(model, segment, prefix=""):
    """Rows of ``model`` about ``segment`` (the default queue may hold other tests' tasks)."""
    return model.objects.filter(**{f"{prefix}payload__segment_id": segment.pk})


def test_worker_killed_inside_a_segment_refresh_leaves_one_clean_refresh(workers):
    aged = timezone.now() - timedelta(days=400)
    User = get_user_model()
    stays, leaves = UserFactory(), UserFactory()
    UserFactory(date_joined=aged)  # never a new shopper
    segment = segments.segment_create(name="New shoppers", slug="kill-new", rules=NEW_SHOPPERS)
    first = segments.segments_refresh(segment_ids=[segment.pk])
    assert first.entered == 2  # precondition: stays and leaves are members, nobody listens yet
    before = _history(segment)
    # Now one member ages out and two shoppers join: the next refresh moves three people.
    User.objects.filter(pk=leaves.pk).update(date_joined=aged)
    joins = [UserFactory(), UserFactory()]
    expected_members = sorted([stays.pk, *(u.pk for u in joins)])
    expected_events = sorted(
        [("segment.entered", u.pk) for u in joins] + [("segment.left", leaves.pk)]
    )

    with Receiver() as receiver:
        endpoint = WebhookEndpoint.objects.create(
            url=receiver.url, events=["segment.entered", "segment.left"]
        )
        webhooks.endpoints_changed()
        worker = workers()
        # Hold the webhook message table: the refresh writes membership and history, then waits
        # on its first message INSERT, inside its one transaction.
        table = WebhookMessage._meta.db_table
        blocker = psycopg.connect(database_url().replace("postgres://", "postgresql://"))
        blocker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            refresh_segments.apply_async(kwargs={"segment_ids": [segment.pk]})
            assert wait_for(lambda: _backend_waiting_on(table), timeout=180), (
                "the refresh never reached its webhook messages"
            )
            backend = _backend_waiting_on(table)
            worker.kill()  # SIGKILL inside the transaction: no cleanup, no commit
            worker.wait(30)
        finally:
            blocker.rollback()
            blocker.close()
        # The orphaned backend finds its client gone and rolls back; wait until it has.
        assert wait_for(
            lambda: not _scalar("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend]),
            timeout=120,
        )
        kept = SegmentMembership.objects.filter(segment=segment).values_list("user_id", flat=True)
        assert sorted(kept) == sorted([stays.pk, leaves.pk]), "the killed refresh left work"
        assert _history(segment) == before
        assert not _ours(WebhookMessage, segment).exists()
        assert not [
            b for _, b in receiver.requests if json.loads(b)["data"]["segment_id"] == segment.pk
        ]

        # A new worker: Redis hands the unacknowledged refresh back (acks_late) and it runs.
        workers()
        assert wait_for(
            lambda: (
                len(_history(segment)) == len(before) + 3
                and _ours(WebhookDelivery, segment, "message__").count() == 3
                and not _ours(WebhookDelivery, segment, "message__")
                .exclude(status="succeeded")
                .exists()
            ),
            timeout=240,
        ), (
            before,
            _history(segment),
            list(_ours(WebhookMessage, segment).values_list("event", "payload")),
            [u.pk for u in joins],
            leaves.pk,
        )

        members = sorted(
            SegmentMembership.objects.filter(segment=segment).values_list("user_id", flat=True)
        )
        assert members == expected_members
        assert _history(segment) == sorted(
            before
            + [(segment.pk, u.pk, "entered") for u in joins]
            + [(segment.pk, leaves.pk, "left")]
        )
        messages = sorted(
            _ours(WebhookMessage, segment).values_list("event", "payload__customer_id")
        )
        assert messages == expected_events
        received = []
        for headers, body in receiver.requests:
            assert verify(endpoint.secret, headers, body)
            event = json.loads(body)
            if event["data"]["segment_id"] == segment.pk:
                received.append((event["type"], event["data"]["customer_id"]))
        assert sorted(received) == expected_events, "an event was lost or sent twice"

    # One clean refresh from here changes nothing: the recovered run was that refresh.
    again = segments.segments_refresh(segment_ids=[segment.pk])
    assert (again.entered, again.left) == (0, 0)
    assert (
        sorted(SegmentMembership.objects.filter(segment=segment).values_list("user_id", flat=True))
        == members
    )
    segment.refresh_from_db()
    assert segment.member_count == len(expected_members)


def test_worker_killed_mid_webhook_request_delivers_once_with_one_webhook_id(workers):
    with Receiver() as receiver:
        receiver.hold = threading.Event()  # the receiver keeps the first request unanswered
        endpoint = WebhookEndpoint.objects.create(url=receiver.url, events=["customer.erased"])
        webhooks.endpoints_changed()
        first = workers()
        with transaction.atomic():  # deliveries are queued after commit
            message = webhooks.webhook_event_emit(
                event="customer.erased", payload={"customer_id": 7, "test": "killed-mid-request"}
            )
        assert message is not None
        delivery = WebhookDelivery.objects.get(message=message)
        assert wait_for(receiver.arrived.is_set, timeout=180), "the worker never sent"
        assert receiver.requests[0][0]["webhook-id"] == message.msg_id  # ours is the one held
        first.kill()  # SIGKILL mid-request: the receiver got it, its answer is never read
        first.wait(30)
        receiver.hold.set()
        delivery.refresh_from_db()
        assert delivery.status == WebhookDelivery.Status.SENDING
        assert not WebhookAttempt.objects.filter(delivery=delivery).exists()
        # A worker still sending is never doubled: the sweep leaves a fresh 'sending' alone,
        # and so does another task for the same delivery (a new task id: not its claim).
        assert webhooks.deliveries_release_stuck() == 0
        deliver.delay(delivery.pk)  # queued ahead of the killed task's message coming back

        workers()
        ready = time.monotonic()
        # No sweep and no clock games: the killed task's own message comes back (acks_late;
        # here after the 5 s visibility timeout, whenever kombu next restores unacknowledged
        # messages) and takes its claim over. (With production's prefork pool the parent gives
        # it back at once: the next test.)
        assert wait_for(
            lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "succeeded",
            timeout=300,
        ), list(WebhookDelivery.objects.values("status", "last_error", "claimed_by"))
        print(f"webhook delivery recovered {time.monotonic() - ready:.1f} s after the new worker")
        # A sentinel delivered after the redundant tasks proves they have all run (one solo
        # worker takes the default queue in order).
        deliver.delay(delivery.pk)
        send_due.delay()
        with transaction.atomic():
            sentinel = webhooks.webhook_event_emit(
                event="customer.erased", payload={"customer_id": 8, "test": "sentinel"}
            )
        assert wait_for(
            lambda: WebhookDelivery.objects.filter(message=sentinel, status="succeeded").exists(),
            timeout=240,
        )

    assert WebhookDelivery.objects.filter(message=message).count() == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    log = list(WebhookAttempt.objects.filter(delivery=delivery).values("response_status"))
    assert log == [{"response_status": 200}], "the delivery log must show one delivery"
    ours = [(h, b) for h, b in receiver.requests if json.loads(b)["data"] == message.payload]
    assert len(ours) == 2, "the receiver saw the killed attempt and the retry"
    for headers, body in ours:
        assert headers["webhook-id"] == message.msg_id  # one idempotency key for both
        assert verify(endpoint.secret, headers, body)


def _pool_process(worker) -> int:
    """The pid of a prefork worker's one pool process (Linux: /proc/<pid>/task/<pid>/children)."""
    path = Path(f"/proc/{worker.pid}/task/{worker.pid}/children")
    assert wait_for(lambda: path.read_text().split(), timeout=60), "no pool process"
    return int(path.read_text().split()[0])


def test_pool_process_killed_mid_webhook_request_is_redelivered_at_once(settings):
    """Production's case (prefork): the pool process dies (OOM killer, SIGKILL) mid-request. Its
    parent gives the message back at once (reject_on_worker_lost), the new pool process runs the
    same task id, takes the delivery's claim over and delivers: in seconds, where it waited for
    the stale sweep (3 x timeout + 60 s) before. The visibility timeout stays an hour here."""
    import os
    import signal

    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    env = {"WEBHOOKS_ALLOW_PRIVATE_TARGETS": "1", "CELERY_VISIBILITY_TIMEOUT": "3600"}
    with (
        celery_workers(settings, prefix="pool", queue=None, env=env, pool="prefork") as (
            start,
            _,
        ),
        Receiver() as receiver,
    ):
        receiver.hold = threading.Event()
        endpoint = WebhookEndpoint.objects.create(url=receiver.url, events=["customer.erased"])
        webhooks.endpoints_changed()
        worker = start()
        with transaction.atomic():
            message = webhooks.webhook_event_emit(
                event="customer.erased", payload={"customer_id": 9, "test": "pool-process-killed"}
            )
        delivery = WebhookDelivery.objects.get(message=message)
        assert wait_for(receiver.arrived.is_set, timeout=180), "the worker never sent"
        os.kill(_pool_process(worker), signal.SIGKILL)  # mid-request
        killed = time.monotonic()
        receiver.hold.set()
        assert wait_for(
            lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "succeeded",
            timeout=180,
        ), list(WebhookDelivery.objects.values("status", "last_error", "claimed_by"))
        recovered = time.monotonic() - killed
        print(f"webhook delivery recovered {recovered:.1f} s after its pool process was killed")
        assert recovered < 90, f"recovered after {recovered:.0f} s: by the sweep, not the claim"
        assert worker.poll() is None  # the same worker, a new pool process

    delivery.refresh_from_db()
    assert delivery.attempts == 1
    log = list(WebhookAttempt.objects.filter(delivery=delivery).values("response_status"))
    assert log == [{"response_status": 200}]
    ours = [h for h, b in receiver.requests if json.loads(b)["data"] == message.payload]
    assert len(ours) == 2 and {h["webhook-id"] for h in ours} == {message.msg_id}
    assert all(verify(endpoint.secret, h, b) for h, b in receiver.requests)
