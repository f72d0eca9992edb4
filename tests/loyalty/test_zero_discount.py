"""A code that takes nothing off (a percentage that rounds to €0.00, free shipping on an order
that ships free anyway) leaves no "−€0.00" line anywhere: cart and checkout say it took
nothing, and the order page, the confirmation email (text and HTML), the admin and the API show
no discount. A zero-value coupon or earn rule is refused where staff make one."""

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
        # 1 % of €0.20 is €0.002: it rounds to €0.00
        ({"code": "NOTHING", "benefit_type": "percentage", "benefit_value": Decimal("1")}, "0.20"),
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


def test_a_zero_value_coupon_or_earn_rule_is_refused_everywhere(admin_client):
    from django.core.exceptions import ValidationError

    from personalization.loyalty.models import EarnRule
    from personalization.loyalty.services import coupon_issue_staff

    with pytest.raises(ValueError, match="more than zero"):
        make_coupon(code="ZERO", benefit_type="fixed", benefit_value=Decimal("0"))
    with pytest.raises(ValidationError) as refused:  # the API's path: a 400 with the field
        coupon_issue_staff(
            data={
                "kind": "shared",
                "code": "ZERO",
                "reason": "Nothing",
                "benefit_type": "percentage",
                "benefit_value": "0",
                "valid_from": "2026-01-01T00:00:00",
                "max_uses_per_shopper": "1",
            }
        )
    assert "more than zero" in str(refused.value.message_dict["benefit_value"])
    page = admin_client.post(
        reverse("admin:loyalty_coupon_add"),
        {
            "kind": "shared",
            "code": "ZERO",
            "reason": "Nothing",
            "benefit_type": "fixed",
            "benefit_value": "0",
            "valid_from_0": "2026-01-01",
            "valid_from_1": "00:00:00",
            "max_uses_per_shopper": "1",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert page.status_code == 200 and "more than zero" in page.content.decode()
    assert not Coupon.objects.exists()
    rule = EarnRule(name="Nothing", trigger="nth_order", benefit_type="fixed")
    with pytest.raises(ValidationError, match="more than zero"):
        rule.full_clean()
    EarnRule(name="Ship", trigger="nth_order", benefit_type="free_shipping").full_clean()
