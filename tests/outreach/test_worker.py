"""Exactly once with real Celery workers and a real SMTP sink, on PostgreSQL and Redis:
a worker killed (SIGKILL) mid-batch, two workers and duplicated tasks, and the budget under
campaigns planned at the same moment."""

import threading
import time
import uuid
from collections import Counter

import pytest
import redis
from django.db import connections

from personalization.outreach import planning
from personalization.outreach.models import Campaign, OutreachMessage
from personalization.outreach.tasks import send_due
from tests.workers import celery_workers
from tests.workers import wait_for as _wait_for

from .conftest import campaign, opted_in, segment_of

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def worker(settings, sink):
    """Workers on a queue of their own, sending to ``sink`` (see ``tests.workers``)."""
    redis.Redis.from_url(settings.REDIS_URL).delete("celery")  # stale tasks of the default queue
    smtp = {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    }
    with celery_workers(settings, prefix="outreach-test", env=smtp) as started:
        yield started


def _planned(users, **kwargs):
    c = campaign([segment_of(users)], picks=0, **kwargs)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SCHEDULED)
    assert planning.campaign_plan(campaign_id=c.pk) == len(users)
    return c


def _sent():
    return OutreachMessage.objects.filter(status="sent").count()


def test_worker_killed_mid_batch_neither_loses_nor_duplicates(worker, sink, budget):
    start, queue = worker
    users = opted_in(6)
    c = _planned(users)
    third = OutreachMessage.objects.filter(campaign=c).order_by("pk")[2]
    sink.handler.stall.add(third.email)
    first = start()
    send_due.apply_async(queue=queue)
    assert _wait_for(lambda: sink.handler.stalled), "the worker never reached the third email"
    assert _sent() == 2 and len(sink.messages()) == 2

    first.kill()  # SIGKILL in the middle of the SMTP transaction of the third email
    first.wait(10)
    sink.handler.release()
    # Its transaction died with it: the third row is planned again, nothing is lost.
    assert _wait_for(lambda: OutreachMessage.objects.filter(status="planned").count() == 4)

    # The task comes again (acks_late redelivers it; the test does it at once).
    start()
    send_due.apply_async(queue=queue)
    assert _wait_for(lambda: _sent() == 6), "the second worker did not finish"
    got = sink.messages()
    assert Counter(m["To"] for m in got) == Counter(u.email for u in users)  # once each
    stored = set(OutreachMessage.objects.values_list("message_id", flat=True))
    assert {m["Message-ID"] for m in got} == stored


def test_two_workers_and_duplicated_tasks_send_each_email_once(worker, sink, budget):
    start, queue = worker
    users = opted_in(30)
    _planned(users)
    start(), start()
    for _ in range(4):  # the same task delivered four times, to two workers
        send_due.apply_async(queue=queue)
    assert _wait_for(lambda: _sent() == 30, timeout=90)
    time.sleep(1.0)  # let any duplicate finish, if there were one
    got = sink.messages()
    assert len(got) == 30
    assert Counter(m["To"] for m in got) == Counter(u.email for u in users)


def test_caps_exact_under_campaigns_planned_at_the_same_moment(worker, sink, budget):
    budget.min_gap_hours = 0  # only the cap (2 per 7 days) holds
    budget.save()
    start, queue = worker
    users = opted_in(12)
    seg = segment_of(users)
    campaigns = []
    for n in range(3):
        c = campaign([seg], name=f"Concurrent {n}", picks=0)
        Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SCHEDULED)
        campaigns.append(c)
    barrier = threading.Barrier(3)
    errors = []

    def plan(c):
        try:
            barrier.wait(10)
            planning.campaign_plan(campaign_id=c.pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=plan, args=(c,)) for c in campaigns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert planning.budget_violations() == 0
    for user in users:
        rules = sorted(OutreachMessage.objects.filter(user=user).values_list("rule", flat=True))
        assert rules == ["cap", "on_time", "on_time"], (user.pk, rules)

    start(), start()
    send_due.apply_async(queue=queue)
    send_due.apply_async(queue=queue)
    assert _wait_for(lambda: _sent() == 24, timeout=90)
    time.sleep(1.0)
    got = Counter(m["To"] for m in sink.messages())
    assert got == Counter({u.email: 2 for u in users})  # never N+1
    assert OutreachMessage.objects.filter(status="planned", rule="cap").count() == 12


def test_a_staff_test_send_delivered_four_times_to_two_workers_goes_once(worker, sink, budget):
    from personalization.outreach.models import CampaignTestSend
    from personalization.outreach.tasks import send_test

    start, queue = worker
    (shopper,) = opted_in(1)
    c = campaign([segment_of([shopper])], picks=0)
    test = CampaignTestSend.objects.create(key=uuid.uuid4(), campaign=c)
    start(), start()
    args = (c.pk, shopper.pk, "boss@example.test", str(test.key))
    for _ in range(4):  # a duplicated delivery (or a parked call published again)
        send_test.apply_async(args=args, queue=queue)
    assert _wait_for(lambda: CampaignTestSend.objects.get(pk=test.pk).sent_at is not None)
    time.sleep(1.0)  # let any duplicate finish, if there were one
    assert [m["To"] for m in sink.messages()] == ["boss@example.test"]
