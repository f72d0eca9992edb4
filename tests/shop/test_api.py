from decimal import Decimal

import pytest

from shop.models import Order
from tests.factories import ProductFactory, ShippingMethodFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_products_api_lists_visible_products_with_store_filters(client):
    ProductFactory(name="Red kettle", colour="Red", price=Decimal("30"))
    ProductFactory(name="Blue kettle", colour="Blue", price=Decimal("60"))
    ProductFactory(name="Hidden", is_active=False)

    data = client.get("/api/products/", {"max_price": "40"}).json()

    assert [p["name"] for p in data["results"]] == ["Red kettle"]
    assert data["results"][0]["variants"][0]["in_stock"] is True
    assert "stock" not in data["results"][0]["variants"][0]  # stock levels stay private
    assert client.get("/api/products/", {"min_price": "x"}).status_code == 400
    by_colour = client.get("/api/products/", {"colour": "Blue"}).json()
    assert [p["name"] for p in by_colour["results"]] == ["Blue kettle"]


def test_orders_api_shows_only_my_orders(client):
    me, other = UserFactory(), UserFactory()
    shipping = ShippingMethodFactory()
    common = dict(
        full_name="A",
        line1="1",
        city="B",
        postcode="1",
        shipping_method=shipping,
        subtotal=1,
        shipping_cost=0,
        total=1,
        payment_gateway="test",
        payment_reference="r",
    )
    Order.objects.create(number="MINE", user=me, email="a@x.test", **common)
    Order.objects.create(number="THEIRS", user=other, email="b@x.test", **common)

    assert client.get("/api/orders/").status_code == 401  # no credentials: 401 (RFC 9110)
    client.force_login(me)
    assert [o["number"] for o in client.get("/api/orders/").json()["results"]] == ["MINE"]
    assert client.get("/api/orders/THEIRS/").status_code == 404


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/products/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()
