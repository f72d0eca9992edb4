from decimal import Decimal

import pytest
from django.urls import reverse

from shop.checkout import Address, order_place
from shop.models import Cart, CartItem
from shop.payments import Card
from tests.factories import ProductFactory, ShippingMethodFactory

CARD = Card(number="4242424242424242", expiry_month=12, expiry_year=2035, cvc="123")
DECLINED = Card(number="4000000000000002", expiry_month=12, expiry_year=2035, cvc="987")
ADDRESS = Address(
    full_name="Ana Novak", line1="1 Road", city="Berlin", postcode="10115", country="DE"
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
    return ShippingMethodFactory(free_over=Decimal("100.00"))


@pytest.fixture
def checkout_data(shipping):
    return {**CHECKOUT, "shipping_method": shipping.pk}


def buy(
    *,
    user,
    shipping,
    price="20.00",
    quantity=1,
    codes=(),
    card=CARD,
    placed_at=None,
    product=None,
    email=None,
):
    """Place an order for ``user`` through the checkout service (no email)."""
    product = product or ProductFactory(price=Decimal(price), stock=100)
    cart, _ = Cart.objects.get_or_create(user=user)
    CartItem.objects.create(cart=cart, variant=product.variants.get(), quantity=quantity)
    cart.coupon_codes = list(codes)
    cart.save()
    return order_place(
        cart=cart,
        user=user,
        email=email or user.email,
        address=ADDRESS,
        shipping_method=shipping,
        card=card,
        notify=False,
        placed_at=placed_at,
    )


def add_to_cart(client, *, price="20.00", quantity=1, **product):
    product = ProductFactory(price=Decimal(price), stock=50, **product)
    response = client.post(
        reverse("shop:cart_add"), {"variant": product.variants.get().pk, "quantity": quantity}
    )
    assert response.status_code == 302
    return product


def hidden_quote(response) -> str:
    """The quote token a checkout page carries in its form (what the browser posts back)."""
    import re

    found = re.search(
        r'<input type="hidden" name="quote" value="([^"]+)"', response.content.decode()
    )
    assert found, "the checkout form carries the quote it shows"
    return found.group(1)
