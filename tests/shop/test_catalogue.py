from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from personalization.models import Event
from shop.services import product_reindex
from tests.factories import (
    BrandFactory,
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
)

pytestmark = pytest.mark.django_db


def names(response):
    return [p.name for p in response.context["products"]]


def test_category_page_includes_subcategories_and_breadcrumbs(client):
    clothing = CategoryFactory(name="Clothing")
    tops = CategoryFactory(name="Tops", parent=clothing)
    ProductFactory(name="Linen shirt", category=tops)
    ProductFactory(name="Kettle", category=CategoryFactory(name="Kitchen"))

    response = client.get(reverse("shop:category", args=["clothing"]))

    assert names(response) == ["Linen shirt"]
    assert [n.name for n in response.context["breadcrumbs"]] == ["Clothing"]
    tops_page = client.get(reverse("shop:category", args=["tops"]))
    assert [n.name for n in tops_page.context["breadcrumbs"]] == ["Clothing", "Tops"]


def test_unknown_category_is_404(client):
    assert client.get(reverse("shop:category", args=["nope"])).status_code == 404


def test_filters_price_brand_colour_size_and_stock(client):
    acme = BrandFactory(name="Acme")
    ProductFactory(name="Cheap red", price=Decimal("10"), colour="Red", brand=acme)
    ProductFactory(name="Dear red", price=Decimal("90"), colour="Red")
    ProductFactory(
        name="Blue M", price=Decimal("30"), variants=[{"colour": "Blue", "size": "M", "stock": 3}]
    )
    ProductFactory(name="Sold out", price=Decimal("30"), stock=0)
    url = reverse("shop:product_list")

    assert names(client.get(url, {"max_price": "50", "colour": "Red"})) == ["Cheap red"]
    assert names(client.get(url, {"brand": "acme"})) == ["Cheap red"]
    assert names(client.get(url, {"size": "M"})) == ["Blue M"]
    assert "Sold out" not in names(client.get(url, {"in_stock": "on"}))
    assert "Sold out" in names(client.get(url))
    assert names(client.get(url, {"min_price": "20", "max_price": "40", "in_stock": "on"})) == [
        "Blue M"
    ]


def test_sorting_by_price(client):
    for price in ["30", "10", "20"]:
        ProductFactory(name=f"P{price}", price=Decimal(price))
    url = reverse("shop:product_list")
    assert names(client.get(url, {"sort": "price"})) == ["P10", "P20", "P30"]
    assert names(client.get(url, {"sort": "-price"})) == ["P30", "P20", "P10"]


def test_bad_filter_values_get_a_400_with_a_message_not_a_500(client):
    ProductFactory(name="Anything")
    response = client.get(reverse("shop:product_list"), {"min_price": "abc", "sort": "sideways"})
    assert response.status_code == 400
    assert b"Some filters were not valid" in response.content
    negative = client.get(reverse("shop:product_list"), {"max_price": "-5"})
    assert negative.status_code == 400


def test_pagination_handles_out_of_range_pages(client):
    ProductFactory.create_batch(30)
    url = reverse("shop:product_list")
    assert len(client.get(url).context["products"]) == 24
    assert len(client.get(url, {"page": "2"}).context["products"]) == 6
    assert client.get(url, {"page": "999"}).context["page"].number == 2
    assert client.get(url, {"page": "x"}).context["page"].number == 1


def test_search_finds_by_name_brand_and_is_remembered(client):
    ProductFactory(name="Trail runner shoe", brand=BrandFactory(name="Kestrel"))
    ProductFactory(name="Stoneware mug")
    product_reindex()
    url = reverse("shop:product_list")

    assert names(client.get(url, {"q": "runner"})) == ["Trail runner shoe"]
    assert names(client.get(url, {"q": "kestrel"})) == ["Trail runner shoe"]
    assert names(client.get(url, {"q": "<script>"})) == []
    event = Event.objects.filter(kind=Event.Kind.SEARCH).order_by("pk").first()
    assert event.attributes == {"query": "runner", "results": 1}


@pytest.mark.postgres
def test_postgres_search_matches_prefixes_and_ranks_name_hits_first(client):
    ProductFactory(name="Waterproof jacket", description="Light and packable.")
    ProductFactory(name="Canvas tote", description="Goes well with a waterproof jacket.")
    product_reindex()
    response = client.get(reverse("shop:product_list"), {"q": "waterpr jack"})
    assert names(response) == ["Waterproof jacket", "Canvas tote"]


def test_product_page_shows_variants_and_records_a_view(client):
    product = ProductFactory(
        name="Hoodie",
        variants=[{"size": "S", "stock": 0}, {"size": "M", "stock": 2}],
    )
    response = client.get(product.get_absolute_url())
    html = response.content.decode()
    assert "S — out of stock" in html
    assert "M — only 2 left" in html
    assert '"@type": "Product"' in html
    assert Event.objects.filter(kind="view", product=product).count() == 1


def test_hidden_product_is_404(client):
    product = ProductFactory(is_active=False)
    assert client.get(product.get_absolute_url()).status_code == 404


def count_queries(client, url, params=None):
    client.get(url, params)  # warm caches (category tree) and the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries), response


def test_product_list_runs_the_same_queries_for_1_or_48_products(client):
    small, big = CategoryFactory(name="Small"), CategoryFactory(name="Big")
    for category, count in [(small, 1), (big, 48)]:
        for _ in range(count):
            ProductImageFactory.create_batch(2, product=ProductFactory(category=category))
    url = reverse("shop:product_list")

    one, _ = count_queries(client, url, {"category": "small", "sort": "price"})
    many, response = count_queries(client, url, {"category": "big", "sort": "price", "page": "2"})

    assert len(response.context["products"]) == 24
    assert one == many
    # count, the cart badge's count, page of products, their images, like counts for the cards
    # (filter choices and categories come from the cache)
    assert many <= 5


def test_product_page_runs_the_same_queries_for_1_or_100_related_rows(client):
    def make(count):
        product = ProductFactory(variants=[{"size": str(n), "stock": 1} for n in range(count)])
        ProductImageFactory.create_batch(count, product=product)
        for _ in range(min(count, 10)):
            ProductImageFactory(product=ProductFactory(category=product.category))
        return product

    one, _ = count_queries(client, make(1).get_absolute_url())
    many, response = count_queries(client, make(100).get_absolute_url())

    assert len(response.context["variants"]) == 100
    assert one == many
    # product, variants, images, view event, related products, their images, like counts, the
    # reviews section (summary, page of reviews, questions; tests/reviews keeps its own budget),
    # + two for the database session on SQLite, where sessions are not in Redis
    assert many <= 13


def test_filter_choices_are_cached_and_refreshed_when_staff_edit_a_variant(client, admin_client):
    variant = ProductFactory(name="Scarf", colour="Red").variants.get()
    url = reverse("shop:product_list")
    assert client.get(url).context["filter"].form.fields["colour"].choices == [("Red", "Red")]

    response = admin_client.post(
        reverse("admin:shop_variant_change", args=[variant.pk]),
        {
            "product": variant.product_id,
            "sku": variant.sku,
            "colour": "Teal",
            "size": "",
            "stock": "4",
            "position": "0",
        },
    )

    assert response.status_code == 302
    assert client.get(url).context["filter"].form.fields["colour"].choices == [("Teal", "Teal")]
    assert names(client.get(url, {"colour": "Teal"})) == ["Scarf"]


@pytest.mark.parametrize(
    ("rating", "step"), [(4.3, 45), (4.2, 40), (None, 0), (7, 50), ("-1", 0), (Decimal("2.75"), 30)]
)
def test_stars_fill_to_the_nearest_half_star(rating, step):
    from shop.templatetags.shop_tags import stars

    assert f'class="stars stars-{step}"' in stars(rating)
