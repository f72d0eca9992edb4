"""How the sender claims messages on PostgreSQL: the message and its shopper's ``Subscriber``
row are locked together with SKIP LOCKED, so a shopper held by a planner (or another sender)
is left for the next pass instead of stalling the whole batch; the shopper's state is read
after the lock."""

import threading
import time
from unittest import mock

import pytest
from django.db import connections, transaction

from personalization.outreach import planning, sending, tasks
from personalization.outreach.models import Campaign, OutreachMessage, Subscriber

from .conftest import campaign, opted_in, segment_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _planned(users):
    """Planned and committed, not sent yet (the test runs the sender itself)."""
    c = campaign([segment_of(users)], picks=0)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SCHEDULED)
    with mock.patch.object(tasks.send_due, "delay") as send_due:
        assert planning.campaign_plan(campaign_id=c.pk) == len(users)
    assert send_due.called  # planning asks for a send once committed
    assert OutreachMessage.objects.filter(campaign=c, status="planned").count() == len(users)
    return c


class Holder(threading.Thread):
    """Holds the lock on one shopper's ``Subscriber`` row from another connection (as a
    planner does while it plans them) until ``release`` is set."""

    def __init__(self, user):
        super().__init__(daemon=True)
        self.user = user
        self.locked, self.release = threading.Event(), threading.Event()

    def run(self):
        try:
            with transaction.atomic():
                Subscriber.objects.select_for_update().get(user=self.user)
                self.locked.set()
                self.release.wait(30)
        finally:
            connections.close_all()


def test_a_shopper_locked_elsewhere_is_skipped_not_waited_for(sink, budget):
    users = opted_in(3)
    c = _planned(users)
    holder = Holder(users[1])
    holder.start()
    try:
        assert holder.locked.wait(10), "the other connection never took the lock"
        started = time.monotonic()
        assert sending.outbox_send_due() == {"sent": 2}
        # Waiting for the lock would have taken until the holder gave up (30 s).
        assert time.monotonic() - started < 10
        assert sorted(m["To"] for m in sink.messages()) == sorted([users[0].email, users[2].email])
        held = OutreachMessage.objects.get(campaign=c, user=users[1])
        assert held.status == "planned"
    finally:
        holder.release.set()
        holder.join(10)
    # The next pass sends it, once.
    assert sending.outbox_send_due() == {"sent": 1}
    assert sorted(m["To"] for m in sink.messages()) == sorted(u.email for u in users)
    assert sending.outbox_send_due() == {}


def test_a_message_whose_shopper_has_no_subscriber_row_is_dropped_not_stuck(sink, budget):
    users = opted_in(2)
    c = _planned(users)
    Subscriber.objects.filter(user=users[0]).delete()  # e.g. removed by hand in the database
    assert sending.outbox_send_due() == {"sent": 1, "dropped": 1}
    dropped = OutreachMessage.objects.get(campaign=c, user=users[0])
    assert (dropped.status, dropped.rule) == ("dropped", "not_opted_in")
    assert [m["To"] for m in sink.messages()] == [users[1].email]
