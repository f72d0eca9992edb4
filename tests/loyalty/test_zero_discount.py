"""A code that takes nothing off (a zero-value coupon, free shipping on an order that ships
free anyway) leaves no "−€0.00" line anywhere: cart and checkout say it took nothing, and the
order page, the confirmation email (text and HTML), the admin and the API show no discount."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse

from personalization.loyalty.models import Coupon, CouponRedemption
from shop.models import Order, OrderDiscount
from tests.factories import UserFactory, checkout_post
from tests.loyalty.conftest import add_to_cart, buy
from tests.loyalty_factories import make_coupon

pytestmark = pytest.mark.django_db

ZERO_LINE = ("−€0.00", "-€0.00")


def _no_zero_line(text: str) -> None:
    assert not any(z in text for z in ZERO_LINE), text[:3000]


@pytest.mark.parametrize(
    "coupon, price",
    [
        ({"code": "NOTHING", "benefit_type": "fixed", "benefit_value": Decimal("0")}, "20.00"),
        ({"code": "SHIPFREE", "benefit_type": "free_shipping"}, "120.00"),  # ships free anyway
    ],
)
def test_a_code_that_takes_nothing_off_shows_no_zero_discount_line(
    client, admin_client, checkout_data, django_capture_on_commit_callbacks, coupon, price
):
    shopper = UserFactory()
    client.force_login(shopper)
    add_to_cart(client, price=price)
    make_coupon(**coupon)
    code = coupon["code"]
    assert client.post(reverse("shop:cart_code_add"), {"code": code}).status_code == 302

    for page in ("shop:cart", "shop:checkout"):
        html = client.get(reverse(page)).content.decode()
        assert code in html  # the code is not lost
        if coupon["benefit_type"] != "free_shipping":  # (free shipping waits for a method)
            assert "Nothing off this order" in html
        _no_zero_line(html)

    with django_capture_on_commit_callbacks(execute=True):
        response = checkout_post(client, checkout_data)
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get()
    assert order.discount_total == 0 and order.total == order.subtotal + order.shipping_cost
    assert not OrderDiscount.objects.exists()
    assert Coupon.objects.get(code=code).uses == 0 and not CouponRedemption.objects.exists()

    (confirmation,) = mail.outbox
    assert order.number in confirmation.body
    _no_zero_line(confirmation.body)
    _no_zero_line(confirmation.alternatives[0][0])
    assert "Discount" not in confirmation.body
    page = client.get(order.get_absolute_url()).content.decode()
    assert order.number in page and "discount-row" not in page
    admin = admin_client.get(reverse("admin:shop_order_change", args=[order.pk])).content.decode()
    assert order.number in admin and code not in admin
    api = client.get(reverse("api-order", args=[order.number]))
    assert api.status_code == 200 and api.json()["discounts"] == []


def test_the_database_refuses_a_zero_discount_line(shipping):
    order = buy(user=UserFactory(), shipping=shipping)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderDiscount.objects.create(order=order, code="X", label="x", amount=Decimal("0.00"))
