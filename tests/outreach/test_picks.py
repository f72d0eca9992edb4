"""Campaign picks come from the store's recommender (the same decision the shop shows), and
from outreach's own popular rule only when the recommender has nothing; the email and the
outbox row say which."""

import pytest
from django.test import TestCase

from personalization import building, events
from personalization.models import Event
from personalization.outreach import picks, services
from personalization.outreach.models import OutreachMessage
from personalization.recommendations import selectors
from personalization.recommendations.models import PickDecision, ProductPopularity
from personalization.recommendations.services import recommendation_data_refresh
from tests.factories import CategoryFactory, ProductFactory, UserFactory

from .conftest import campaign, opted_in, segment_of

pytestmark = pytest.mark.django_db


def buy(user, *products, order="O1"):
    for product in products:
        events.record(
            Event.Kind.PURCHASE, user=user, product=product, value=product.price, order=order
        )


def schedule(c):
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.campaign_schedule(campaign=c)


def test_email_picks_are_the_recommenders_decision_and_say_so(sink, budget):
    outdoor = CategoryFactory(name="Outdoor")
    tent = ProductFactory(name="Tent", category=outdoor)
    stove = ProductFactory(name="Camp Stove", category=outdoor)
    for n in range(3):
        buy(UserFactory(), tent, stove, order=f"X{n}")
    (shopper,) = opted_in(1)
    buy(shopper, tent, order="S1")
    building.build_full()
    with TestCase.captureOnCommitCallbacks(execute=True):
        recommendation_data_refresh()
    assert ProductPopularity.objects.exists()

    chosen = picks.picks_for(shopper, 2)

    assert chosen.source == picks.SOURCE_RECOMMENDER
    assert [p.name for p in chosen.picks] == ["Camp Stove"]  # never the tent they bought
    # The very decision the shop shows, stored as its row.
    store = selectors.picks_for(shopper)
    assert chosen.decision_id == store.decision_id is not None
    assert PickDecision.objects.filter(pk=chosen.decision_id, user=shopper).exists()
    assert [p.product_id for p in chosen.picks] == [c.product_id for c in store.cards][:2]

    schedule(campaign([segment_of([shopper])], picks=2))
    (mail,) = sink.messages()
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Camp Stove" in text and "Tent:" not in text
    assert "Why these products: picked for you by our recommendations" in text
    assert "Why these products: picked for you by our recommendations" in html
    message = OutreachMessage.objects.get(user=shopper)
    assert (message.status, message.picks_source) == ("sent", picks.SOURCE_RECOMMENDER)
    assert message.why == "Sent within the budget; picks: the store's recommender (personal picks)"


def test_the_fallback_runs_only_when_the_recommender_has_nothing(sink, budget):
    ProductFactory(name="Trail Shoe")
    (shopper,) = opted_in(1)
    # No popularity refresh has run: the recommender has nothing to offer.
    assert not ProductPopularity.objects.exists()
    assert selectors.picks_for(shopper).cards == ()

    chosen = picks.picks_for(shopper, 2)

    assert chosen.source == picks.SOURCE_FALLBACK
    assert [p.name for p in chosen.picks] == ["Trail Shoe"]
    assert chosen.why == "popular products in the categories you shop most"
    schedule(campaign([segment_of([shopper])], picks=2))
    (mail,) = sink.messages()
    assert "Why these products: popular products in the categories you shop most" in (
        mail.get_body(("plain",)).get_content()
    )
    message = OutreachMessage.objects.get(user=shopper)
    assert message.picks_source == picks.SOURCE_FALLBACK
    assert "the recommender had nothing" in message.why


def test_no_picks_asked_for_says_no_why(sink, budget):
    ProductFactory(name="Trail Shoe")
    (shopper,) = opted_in(1)
    assert picks.picks_for(shopper, 0) == picks.EmailPicks(picks.SOURCE_NONE, ())
    schedule(campaign([segment_of([shopper])], picks=0))
    (mail,) = sink.messages()
    assert "Why these products" not in mail.get_body(("plain",)).get_content()
    assert OutreachMessage.objects.get(user=shopper).picks_source == picks.SOURCE_NONE
