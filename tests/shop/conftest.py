from decimal import Decimal

import pytest

from shop.services import product_reindex
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    ShippingMethodFactory,
)

CHECKOUT = {
    "email": "ana@example.test",
    "full_name": "Ana Novak",
    "line1": "1 Market Street",
    "city": "Berlin",
    "postcode": "10115",
    "country": "DE",
    "card_number": "4242 4242 4242 4242",
    "card_expiry": "12/35",
    "card_cvc": "123",
}


@pytest.fixture
def shipping(db):
    return ShippingMethodFactory()


@pytest.fixture
def checkout_data(shipping):
    return {**CHECKOUT, "shipping_method": shipping.pk}


@pytest.fixture
def runner(db):
    """A product with an image among three others in one category, indexed for search: the
    store pages the page caches keep (tests/shop/test_page_cache.py, test_signed_cache.py)."""
    shoes = CategoryFactory(name="Shoes")
    product = ProductFactory(name="Trail runner", category=shoes, price=Decimal("80.00"))
    ProductImageFactory(product=product)
    for n in range(3):
        ProductFactory(name=f"Walker {n}", category=shoes)
    product_reindex()
    return product
