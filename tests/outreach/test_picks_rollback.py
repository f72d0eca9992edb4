"""A send that rolls back leaves no cached picks behind (issue 15 leftover 1).

The email's picks are the store's decision (``recommendations.selectors.picks_for``), decided
and stored as a ``PickDecision`` inside the send's transaction. When the send fails and the
transaction rolls back, the decision row goes with it; the cached list must go too, or the
shop's pages keep showing picks (and a "why" link) from a decision that never existed.
"""

import pytest
from django.core.cache import cache
from django.core.mail.backends.base import BaseEmailBackend
from django.test import TestCase

from personalization import building, events
from personalization.models import Event
from personalization.outreach import planning, sending, services
from personalization.outreach.models import OutreachMessage
from personalization.recommendations import selectors
from personalization.recommendations.models import PickDecision
from personalization.recommendations.services import recommendation_data_refresh
from tests.factories import CategoryFactory, ProductFactory, UserFactory

from .conftest import campaign, opted_in, segment_of

pytestmark = pytest.mark.django_db


class DroppedConnection(BaseEmailBackend):
    """An SMTP connection that dies mid-send (not a refusal: the send's transaction rolls back)."""

    def send_messages(self, email_messages):
        raise ConnectionResetError("connection reset by peer")


def _planned_shopper():
    outdoor = CategoryFactory(name="Outdoor")
    tent = ProductFactory(name="Tent", category=outdoor)
    stove = ProductFactory(name="Camp Stove", category=outdoor)
    for n in range(3):
        user = UserFactory()
        for product in (tent, stove):
            events.record(Event.Kind.PURCHASE, user=user, product=product, order=f"X{n}")
    (shopper,) = opted_in(1)
    events.record(Event.Kind.PURCHASE, user=shopper, product=tent, order="S1")
    building.build_full()
    with TestCase.captureOnCommitCallbacks(execute=True):
        recommendation_data_refresh()
    c = campaign([segment_of([shopper])], picks=2)
    services.campaign_schedule(campaign=c)  # its planning task would run after commit: not here
    assert planning.campaign_plan(campaign_id=c.pk) == 1  # planned, not sent (no commit here)
    return shopper, c


def test_a_failed_send_caches_no_picks_from_its_rolled_back_decision(budget):
    shopper, c = _planned_shopper()
    key = selectors.USER_KEY.format(shopper.pk)
    assert cache.get(key) is None and not PickDecision.objects.filter(user=shopper).exists()

    with (
        TestCase.captureOnCommitCallbacks(execute=True) as callbacks,
        pytest.raises(ConnectionResetError),
    ):
        sending.message_send_next(connection=DroppedConnection(), campaign_id=c.pk)

    assert callbacks == []  # the fill was discarded with the rolled-back savepoint
    assert OutreachMessage.objects.get(user=shopper).status == "planned"
    assert not PickDecision.objects.filter(user=shopper).exists()
    assert cache.get(key) is None
    # The shop decides afresh, and the decision it shows is a row that exists.
    shown = selectors.picks_for(shopper)
    assert [card.name for card in shown.cards] == ["Camp Stove"]
    assert PickDecision.objects.filter(pk=shown.decision_id, user=shopper).exists()
    assert cache.get(key) == shown


def test_a_sent_email_caches_its_decision_once_committed(budget, sink):
    shopper, c = _planned_shopper()
    key = selectors.USER_KEY.format(shopper.pk)

    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        connection = sending.email_connection()
        assert sending.message_send_next(connection=connection, campaign_id=c.pk) == "sent"
        assert cache.get(key) is None  # committed, not yet: the list waits for the commit
    assert callbacks
    for callback in callbacks:
        callback()

    (decision,) = PickDecision.objects.filter(user=shopper)
    assert cache.get(key).decision_id == decision.pk
    assert "Camp Stove" in sink.messages()[0].get_body(("plain",)).get_content()
