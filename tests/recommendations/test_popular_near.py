"""On a product page "Popular right now" favours the product's own category: a newcomer on a
jacket's page saw the store's best-selling pans and mugs first."""

import re

import pytest
from django.core.cache import cache

from conftest import clear_test_cache
from personalization import services
from personalization.recommendations import selectors
from personalization.recommendations.services import recommendation_data_refresh
from tests.factories import CategoryFactory, ProductFactory, UserFactory
from tests.recommendations.test_recommendations import buy

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def store():
    clothing = CategoryFactory(name="Clothing")
    jackets = CategoryFactory(name="Jackets", parent=clothing)
    tops = CategoryFactory(name="Tops", parent=clothing)
    kitchen = CategoryFactory(name="Kitchen")
    coat = ProductFactory(name="Rain Coat", category=jackets)
    parka = ProductFactory(name="Warm Parka", category=jackets)
    tee = ProductFactory(name="Plain Tee", category=tops)
    pans = [ProductFactory(name=f"Pan {n}", category=kitchen) for n in range(12)]
    buyer = UserFactory()
    # the kitchen sells best by far; the jacket and the tee sell a little
    for n, pan in enumerate(pans):
        buy(buyer, pan, pan, pan, order=f"K{n}")
    buy(buyer, parka, order="J1")
    buy(buyer, tee, order="T1")
    recommendation_data_refresh()
    clear_test_cache()
    return {"coat": coat, "parka": parka, "tee": tee, "pans": pans}


def pick_names(html: str) -> list[str]:
    section = html[html.index('class="picks"') :]
    section = section[: section.index("</section>")]
    return re.findall(r'<h3 class="card-title">([^<]+)</h3>', section)


def related_names(html: str) -> list[str]:
    section = html[html.index('id="related-h"') :]
    return re.findall(r'<h3 class="card-title">([^<]+)</h3>', section)


def test_an_anonymous_product_page_shows_its_category_first_then_its_siblings(client, store):
    html = client.get(store["coat"].get_absolute_url()).content.decode()

    assert "Popular right now" in html and "this category first" in html
    names = pick_names(html)
    # the parka, its category's most popular, is under "You may also like" already: the
    # picks go on with the sibling category's tee, before the store's far more popular pans
    assert "Warm Parka" in related_names(html) and "Warm Parka" not in names
    assert names[0] == "Plain Tee", names
    assert "Rain Coat" not in names, "never the product itself"
    assert len(names) == 4 and names[1].startswith("Pan"), "padded with the store's popular"


def test_the_home_page_keeps_the_store_wide_popular_list(client, store):
    names = pick_names(client.get("/").content.decode())
    assert names[0].startswith("Pan")


def test_personalization_off_favours_the_category_too(client, store):
    shopper = UserFactory()
    services.personalization_set_enabled(user=shopper, enabled=False)
    client.force_login(shopper)

    html = client.get(store["coat"].get_absolute_url()).content.decode()

    assert "Personalization is off" in html
    assert pick_names(html)[0] == "Plain Tee"


def test_a_newcomer_with_popular_picks_sees_the_category_first_too(client, store):
    newcomer = UserFactory()
    assert selectors.picks_for(newcomer).mode == "popular"
    client.force_login(newcomer)

    html = client.get(store["coat"].get_absolute_url()).content.decode()

    assert pick_names(html)[0] == "Plain Tee"
    # the stored decision holds the store-wide list: no "Why these?" pointing at other picks,
    # but the note says why these: the category's popular list, nothing personal
    section = html[html.index('class="picks"') :]
    assert "Why these?" not in section
    assert "Popular with everyone in this category" in section
    assert "nothing about you chose these" in section


def test_the_category_list_is_cached_and_forgotten_with_the_popular_list(
    store, django_assert_num_queries
):
    coat = store["coat"]
    kwargs = {"category_id": coat.category_id, "parent_id": coat.category.parent_id}
    first = selectors.picks_fragment(None, product_id=coat.pk, limit=4, **kwargs)
    with django_assert_num_queries(0):
        assert selectors.picks_fragment(None, product_id=coat.pk, limit=4, **kwargs) == first
        near = selectors.popular_picks_near(coat.category_id, coat.category.parent_id)
    # its own category (the coat, not popular yet, after the parka), then its sibling
    assert [c.name for c in near.cards[:3]] == ["Warm Parka", "Rain Coat", "Plain Tee"]

    selectors.shared_cache_forget()

    assert cache.get(selectors.POPULAR_NEAR_KEY.format(coat.category_id)) is None


def test_a_category_with_too_few_popular_products_is_padded_from_the_store(store):
    lonely = CategoryFactory(name="Lonely")
    only = ProductFactory(name="Only One", category=lonely)
    buy(UserFactory(), only, order="L1")
    recommendation_data_refresh()
    clear_test_cache()

    near = selectors.popular_picks_near(lonely.pk, None)

    assert near.cards[0].product_id == only.pk
    assert len(near.cards) == 12, "as many picks as the store-wide list"
