"""Recommendations: pairs and popularity by SQL, picks with stored reasons, cache, consent."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from personalization import building, events, services
from personalization.models import Event
from personalization.recommendations import selectors
from personalization.recommendations.backends import (
    AffinityPairsRecommender,
    PopularityRecommender,
    get_backend,
)
from personalization.recommendations.models import PickDecision, ProductPair, ProductPopularity
from personalization.recommendations.services import recommendation_data_refresh
from personalization.selectors import profile_for
from shop.models import Variant
from social.engagement.services import like_add
from tests.factories import CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def buy(user, *products, order="O1"):
    for product in products:
        events.record(
            Event.Kind.PURCHASE, user=user, product=product, value=product.price, order=order
        )


@pytest.fixture
def store():
    outdoor = CategoryFactory(name="Outdoor")
    kitchen = CategoryFactory(name="Kitchen")
    tent = ProductFactory(name="Tent", category=outdoor)
    stove = ProductFactory(name="Camp Stove", category=outdoor)
    lamp = ProductFactory(name="Lantern", category=outdoor)
    pan = ProductFactory(name="Pan", category=kitchen, price=Decimal("30"))
    sold_out = ProductFactory(name="Sleeping Bag", category=outdoor, stock=0)
    return {"tent": tent, "stove": stove, "lamp": lamp, "pan": pan, "sold_out": sold_out}


def test_pairs_count_distinct_shoppers_who_bought_or_like_both(store):
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    buy(a, store["tent"], store["stove"])
    buy(b, store["tent"], store["stove"], order="O2")
    buy(c, store["tent"], store["pan"], order="O3")
    assert like_add(user=a, obj=store["lamp"]) and like_add(user=a, obj=store["pan"])
    assert like_add(user=b, obj=store["lamp"]) and like_add(user=b, obj=store["pan"])
    services.personalization_set_enabled(user=c, enabled=False)  # c is left out of pairs

    result = recommendation_data_refresh()

    pair = ProductPair.objects.get(product=store["tent"], other=store["stove"])
    assert (pair.co_purchases, pair.co_likes) == (2, 0)
    liked = ProductPair.objects.get(product=store["lamp"], other=store["pan"])
    assert (liked.co_purchases, liked.co_likes) == (0, 2)
    assert not ProductPair.objects.filter(product=store["tent"], other=store["pan"]).exists()
    assert result["pairs"] == ProductPair.objects.count()
    top = ProductPopularity.objects.order_by("-score").first()
    assert top.product == store["tent"] and top.purchases == 3
    # idempotent: a second run gives the same rows
    before = set(ProductPair.objects.values_list("product", "other", "co_purchases", "co_likes"))
    recommendation_data_refresh()
    after = set(ProductPair.objects.values_list("product", "other", "co_purchases", "co_likes"))
    assert before == after


def test_picks_say_why_exclude_bought_and_out_of_stock_and_store_the_decision(store):
    others = [UserFactory() for _ in range(3)]
    for n, other in enumerate(others):
        buy(other, store["tent"], store["stove"], store["sold_out"], order=f"X{n}")
    shopper = UserFactory()
    buy(shopper, store["tent"])
    building.build_full()
    recommendation_data_refresh()

    picks = selectors.picks_for(shopper)

    assert picks.mode == "personal"
    by_product = {card.product_id: card for card in picks.cards}
    assert by_product[store["stove"].pk].text == "Because you bought Tent"
    assert store["tent"].pk not in by_product  # already bought
    assert store["sold_out"].pk not in by_product  # out of stock
    decision = PickDecision.objects.get(user=shopper)
    assert decision.pk == picks.decision_id and decision.mode == "personal"
    stored = {p["product"]: p for p in decision.picks}
    assert stored[store["stove"].pk]["reason"] == "bought"
    assert stored[store["stove"].pk]["because"] == store["tent"].pk
    assert "purchases" in decision.data_used


def test_warm_picks_run_no_query_and_are_not_decided_again(store, django_assert_num_queries):
    shopper = UserFactory()
    buy(shopper, store["tent"])
    building.build_full()
    recommendation_data_refresh()
    first = selectors.picks_for(shopper)
    assert first.cards
    selectors.also_bought(store["tent"].pk)
    selectors.picks_for(None)

    with django_assert_num_queries(0):
        again = selectors.picks_for(shopper)
        selectors.also_bought(store["tent"].pk)
        selectors.picks_for(None)
    assert again.decision_id == first.decision_id
    assert PickDecision.objects.filter(user=shopper).count() == 1


def test_a_profile_build_forgets_the_cached_picks(store):
    shopper = UserFactory()
    buy(shopper, store["tent"])
    building.build_full()
    recommendation_data_refresh()
    first = selectors.picks_for(shopper)
    assert store["stove"].pk in [c.product_id for c in first.cards]

    buy(shopper, store["stove"], order="O9")
    building.build_incremental()

    second = selectors.picks_for(shopper)
    assert second.decision_id != first.decision_id
    assert store["stove"].pk not in [c.product_id for c in second.cards]


def test_anonymous_and_new_shoppers_get_popular_picks(store, client):
    buyer = UserFactory()
    buy(buyer, store["pan"], store["pan"], store["tent"])
    recommendation_data_refresh()

    anonymous = selectors.picks_for(None)
    assert anonymous.mode == "anonymous" and anonymous.decision_id is None
    assert anonymous.cards[0].product_id == store["pan"].pk
    assert anonymous.cards[0].text == "Popular in Kitchen"
    assert store["sold_out"].pk not in [c.product_id for c in anonymous.cards]

    newcomer = UserFactory()
    picks = selectors.picks_for(newcomer)
    assert picks.mode == "popular"
    assert PickDecision.objects.get(user=newcomer).mode == "popular"

    response = client.get(reverse("shop:home"))
    assert response.status_code == 200
    assert b"Popular right now" in response.content and b"Popular in Kitchen" in response.content
    assert PickDecision.objects.filter(user__isnull=True).count() == 0


def test_personalization_off_gets_only_popular_picks_labelled_so(store, client):
    shopper = UserFactory()
    buy(shopper, store["tent"])
    building.build_full()
    recommendation_data_refresh()
    assert selectors.picks_for(shopper).mode == "personal"
    decisions = PickDecision.objects.filter(user=shopper).count()

    services.personalization_set_enabled(user=shopper, enabled=False)
    picks = selectors.picks_for(shopper)

    assert picks.mode == "off" and picks.decision_id is None
    assert all(card.reason == "popular" for card in picks.cards)
    assert PickDecision.objects.filter(user=shopper).count() == decisions
    client.force_login(shopper)
    page = client.get(reverse("shop:home")).content.decode()
    assert "Personalization is off" in page and "Because you" not in page
    why = client.get(reverse("recommendations:why")).content.decode()
    assert "no decision about you is stored" in why


def test_product_page_shows_also_bought_and_why_page_reads_the_decision(store, client):
    others = [UserFactory() for _ in range(2)]
    for n, other in enumerate(others):
        buy(other, store["tent"], store["lamp"], order=f"Y{n}")
    shopper = UserFactory()
    buy(shopper, store["tent"])
    building.build_full()
    recommendation_data_refresh()
    client.force_login(shopper)

    page = client.get(store["tent"].get_absolute_url()).content.decode()
    assert "Customers who bought this also bought" in page
    assert "Bought by 3 shoppers who bought this" not in page  # the shopper's own purchase
    assert "Bought by 2 shoppers who bought this" in page

    home = client.get(reverse("shop:home")).content.decode()
    assert "Picked for you" in home and "Because you bought Tent" in home
    why = client.get(reverse("recommendations:why")).content.decode()
    assert "Lantern</strong>: Because you bought Tent" in why
    assert "what you bought here" in why


def test_affinity_reason_names_the_interest(store):
    shopper = UserFactory()
    for _ in range(5):
        events.record(Event.Kind.VIEW, user=shopper, product=store["tent"])
    building.build_full()
    recommendation_data_refresh()

    picks = AffinityPairsRecommender().picks_for(
        user_id=shopper.pk, profile=profile_for(shopper), limit=5
    )

    reasons = {p.product_id: p for p in picks.picks}
    assert reasons[store["stove"].pk].reason == "affinity"
    assert reasons[store["stove"].pk].text == "You often look at Outdoor"


@pytest.mark.parametrize("backend", [AffinityPairsRecommender, PopularityRecommender])
def test_every_recommender_keeps_the_contract(store, backend):
    """Contract for every recommender: no bought, inactive or out-of-stock product; a reason."""
    shopper = UserFactory()
    buy(shopper, store["tent"])
    like_add(user=shopper, obj=store["pan"])
    Variant.objects.filter(product=store["lamp"]).update(stock=0)
    store["stove"].is_active = False
    store["stove"].save()
    building.build_full()
    recommendation_data_refresh()

    picks = backend().picks_for(user_id=shopper.pk, profile=None, limit=10).picks

    ids = {pick.product_id for pick in picks}
    assert ids and not ids & {store["tent"].pk, store["lamp"].pk, store["stove"].pk}
    assert store["sold_out"].pk not in ids
    assert all(pick.text for pick in picks)


def test_the_recommender_is_a_setting(settings):
    settings.RECOMMENDATIONS_BACKEND = (
        "personalization.recommendations.backends.PopularityRecommender"
    )
    assert isinstance(get_backend(), PopularityRecommender)
    settings.RECOMMENDATIONS_BACKEND = (
        "personalization.recommendations.backends.AffinityPairsRecommender"
    )
    assert isinstance(get_backend(), AffinityPairsRecommender)


def test_home_page_with_warm_picks_costs_no_more_queries_than_without(store, client):
    shopper = UserFactory()
    buy(shopper, store["tent"])
    building.build_full()
    recommendation_data_refresh()
    client.force_login(shopper)
    client.get(reverse("shop:home"))  # warms the caches
    with CaptureQueriesContext(connection) as warm:
        client.get(reverse("shop:home"))
    assert not [q for q in warm.captured_queries if "recommendations_" in q["sql"]]
    assert not [q for q in warm.captured_queries if "personalization_event" in q["sql"]]


def test_warm_picks_fragment_is_served_from_the_cache_per_shopper(store, django_assert_num_queries):
    """The "Picked for you" fragment: rendered once per shopper and decision, then read from the
    cache with no query and no template rendering; never one shopper's fragment for another;
    a new decision (personalization off) renders afresh."""
    from django.test.signals import template_rendered

    ann, bob = UserFactory(), UserFactory()
    buy(ann, store["tent"])
    buy(bob, store["pan"], order="O2")
    building.build_full()
    recommendation_data_refresh()
    rendered = []

    def count(sender, template, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(count)
    try:
        first = selectors.picks_fragment(ann)
        assert "Picked for you" in first and 'data-picks="personal"' in first
        assert "recommendations/_picks.html" in rendered, "precondition: the cold path renders"
        rendered.clear()
        with django_assert_num_queries(0):
            again = selectors.picks_fragment(ann)
        assert again == first and rendered == [], "warm: no query, no rendering"

        bobs = selectors.picks_fragment(bob)
        assert bobs != first, "another shopper gets their own fragment"
        assert store["pan"].pk not in [c.product_id for c in selectors.picks_for(bob).cards]

        on_product = selectors.picks_fragment(ann, product_id=store["stove"].pk, limit=4)
        assert "Camp Stove" not in on_product and "Camp Stove" in first

        services.personalization_set_enabled(user=ann, enabled=False)
        off = selectors.picks_fragment(ann)
        assert "Personalization is off" in off and 'data-picks="off"' in off
    finally:
        template_rendered.disconnect(count)


def test_recent_decisions_give_each_stored_reason_once_with_how_many_picks_it_explains():
    """The "Recent decisions" page said "You often look at Cameras" eleven times in a row."""
    from personalization.recommendations.privacy import pick_decisions

    shopper = UserFactory()
    products = [ProductFactory() for _ in range(4)]
    texts = ["You often look at Cameras"] * 3 + ["You like Northwind"]
    PickDecision.objects.create(
        user=shopper,
        mode="personal",
        strategy="test",
        picks=[
            {"product": p.pk, "reason": "affinity", "because": None, "text": t, "score": 1.0}
            for p, t in zip(products, texts, strict=True)
        ],
    )

    (decision,) = pick_decisions(shopper, limit=5)

    assert decision.why == "You often look at Cameras (3 picks); You like Northwind"
    assert all(p.name in decision.what for p in products), "every pick is still named"
