import pytest

from tests.factories import ShippingMethodFactory

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
