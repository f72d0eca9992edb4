"""A staff test send goes out once per click: the ``outreach.send_test`` task claims its
``CampaignTestSend`` row in PostgreSQL, so a retry, a second delivery or a copy running at the
same moment sends nothing more; an SMTP failure leaves it owed."""

import uuid

import pytest
from django.db import transaction

from personalization.outreach import services, tasks
from personalization.outreach.models import CampaignTestSend
from tests.workers import two_copies_past_a_held_send

from .conftest import campaign, free_port, opted_in, segment_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _asked(staff_to="boss@example.test"):
    (shopper,) = opted_in(1, first_name="Ines")
    c = campaign([segment_of([shopper])], picks=0)
    with transaction.atomic():  # committed, as the admin view does; the task is not run here
        test = CampaignTestSend.objects.create(key=uuid.uuid4(), campaign=c)
    return c, shopper, test, (c.pk, shopper.pk, staff_to, str(test.key))


def test_the_same_task_run_twice_sends_one_test(sink):
    c, shopper, test, args = _asked()
    assert tasks.send_test.apply(args=args).get() is True
    assert tasks.send_test.apply(args=args).get() is False  # a retry / a second delivery
    (mail,) = sink.messages()
    assert mail["Subject"] == "[Test] Ines, picked for you" and mail["To"] == "boss@example.test"
    test.refresh_from_db()
    assert test.sent_at is not None


def test_two_copies_at_the_same_moment_send_one_test(sink):
    c, shopper, test, args = _asked()
    second, errors = two_copies_past_a_held_send(
        sink, "boss@example.test", lambda: tasks.send_test.apply(args=args).get()
    )
    assert second == [False]  # the row is locked: skipped at once, not waited for
    assert len(errors) == 1 and "451" in str(errors[0])  # a temporary refusal: Celery retries
    test.refresh_from_db()
    assert test.sent_at is None and sink.messages() == []  # rolled back: still owed
    # The retry sends it; any copy after that sends nothing.
    assert tasks.send_test.apply(args=args).get() is True
    assert tasks.send_test.apply(args=args).get() is False
    assert len(sink.messages()) == 1


def test_an_smtp_failure_leaves_the_test_owed_then_it_goes_once(sink, settings):
    c, shopper, test, args = _asked()
    settings.EMAIL_PORT = free_port()  # nothing listens there: connection refused
    with pytest.raises(OSError):
        services.campaign_test_send_deliver(
            key=args[3], campaign_id=c.pk, shopper_id=shopper.pk, to="boss@example.test"
        )
    test.refresh_from_db()
    assert test.sent_at is None and sink.messages() == []
    settings.EMAIL_PORT = sink.port
    assert tasks.send_test.apply(args=args).get() is True
    assert tasks.send_test.apply(args=args).get() is False
    assert len(sink.messages()) == 1


def test_asking_for_a_test_enqueues_it_after_commit(sink):
    (shopper,) = opted_in(1, first_name="Ines")
    c = campaign([segment_of([shopper])], picks=0)
    test = services.campaign_test_send(campaign=c, shopper=shopper, to="boss@example.test")
    (mail,) = sink.messages()  # eager tasks: the on_commit call ran once committed
    assert mail["To"] == "boss@example.test"
    test.refresh_from_db()
    assert test.sent_at is not None
    with pytest.raises(services.OutreachError):
        services.campaign_test_send(campaign=c, shopper=shopper, to="")
