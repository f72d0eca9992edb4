"""Codes in the cart and at checkout: the discount line everywhere, the clear refusals, and
the price the shopper confirmed is the price charged."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from personalization.loyalty.models import Coupon, CouponRedemption
from shop.models import Cart, CartItem, Order, OrderDiscount, Product, ShippingMethod
from tests.factories import CategoryFactory, UserFactory, checkout_post
from tests.loyalty.conftest import add_to_cart, buy, hidden_quote
from tests.loyalty_factories import TierFactory, make_coupon

pytestmark = pytest.mark.django_db


def apply_code(client, code, **extra):
    return client.post(reverse("shop:cart_code_add"), {"code": code, **extra})


def test_a_code_in_the_cart_becomes_a_discount_line_on_the_order_email_and_admin(
    client, admin_client, checkout_data, django_capture_on_commit_callbacks
):
    add_to_cart(client, price="20.99", quantity=2)
    make_coupon(code="SAVE10")
    response = apply_code(client, " save10 ")
    assert response.status_code == 302
    cart_page = client.get(reverse("shop:cart")).content.decode()
    assert "SAVE10" in cart_page and "−€4.20" in cart_page  # 10% of 41.98 = 4.198

    with django_capture_on_commit_callbacks(execute=True):
        response = checkout_post(client, checkout_data)
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get()
    assert order.subtotal == Decimal("41.98")
    assert order.discount_total == Decimal("4.20")
    assert order.total == Decimal("41.98") + Decimal("4.90") - Decimal("4.20")
    assert list(order.discounts.values_list("code", "amount")) == [("SAVE10", Decimal("4.20"))]
    redemption = CouponRedemption.objects.get()
    assert (redemption.order, redemption.amount) == (order, Decimal("4.20"))
    assert Coupon.objects.get(code="SAVE10").uses == 1
    assert Cart.objects.get().coupon_codes == []
    assert "Discount SAVE10 (10% off): -€4.20" in mail.outbox[0].body
    assert "−€4.20" in mail.outbox[0].alternatives[0][0]
    assert "−€4.20" in client.get(order.get_absolute_url()).content.decode()
    admin_page = admin_client.get(reverse("admin:shop_order_change", args=[order.pk]))
    assert "SAVE10" in admin_page.content.decode() and "4.20" in admin_page.content.decode()


def refusal(client, code, expected, status=400):
    cart_before = list(CartItem.objects.values_list("variant_id", "quantity"))
    assert cart_before, "the test needs something in the cart"
    response = apply_code(client, code)
    assert response.status_code == status
    assert expected in response.content.decode()
    assert list(CartItem.objects.values_list("variant_id", "quantity")) == cart_before
    assert all(code not in c.coupon_codes for c in Cart.objects.all())


def test_unknown_code(client):
    add_to_cart(client)
    refusal(client, "NOPE", "There is no code NOPE. Please check the spelling.")


def test_expired_code_says_when(client):
    add_to_cart(client)
    make_coupon(
        code="OLD",
        valid_from=timezone.now() - timedelta(days=30),
        valid_until=timezone.make_aware(timezone.datetime(2026, 3, 3, 12)),
    )
    refusal(client, "OLD", "This code expired on 3 March 2026.")


def test_minimum_not_met_says_how_much(client):
    add_to_cart(client, price="20.00")
    make_coupon(code="BIG", conditions=[{"type": "min_subtotal", "amount": "50"}])
    refusal(
        client, "BIG", "This code needs an order of at least €50.00 (your items come to €20.00)."
    )


def test_not_for_these_products(client):
    add_to_cart(client)
    garden = CategoryFactory(name="Garden")
    make_coupon(
        code="GARDEN", conditions=[{"type": "categories", "ids": [garden.pk], "names": ["Garden"]}]
    )
    refusal(client, "GARDEN", "This code is only for Garden products.")


def test_someone_elses_code(client):
    shopper = UserFactory()
    client.force_login(shopper)
    add_to_cart(client)
    make_coupon(code="HERS", owner=UserFactory(), kind="single")
    refusal(client, "HERS", "This code belongs to another shopper&#x27;s account.")


def test_a_personal_code_needs_sign_in(client):
    add_to_cart(client)
    make_coupon(code="MINE", owner=UserFactory(), kind="single")
    refusal(client, "MINE", "This code is personal: please sign in to use it.")


def test_used_up(client, shipping):
    make_coupon(code="ONCE", max_uses=1)
    first = buy(user=UserFactory(), shipping=shipping, codes=["ONCE"])
    assert first.discount_total == Decimal("2.00")
    add_to_cart(client)
    refusal(client, "ONCE", "This code has been used up.")


def test_already_used_by_this_shopper(client, shipping):
    shopper = UserFactory()
    make_coupon(code="PERSHOP", max_uses_per_shopper=1)
    assert buy(user=shopper, shipping=shipping, codes=["PERSHOP"]).discount_total > 0
    client.force_login(shopper)
    add_to_cart(client)
    refusal(client, "PERSHOP", "You have already used this code.")


def test_first_order_only(client, shipping):
    shopper = UserFactory()
    assert buy(user=shopper, shipping=shipping).pk
    make_coupon(code="FIRST", conditions=[{"type": "first_order"}])
    client.force_login(shopper)
    add_to_cart(client)
    refusal(client, "FIRST", "This code is only for a first order.")


def test_tier_condition(client):
    TierFactory(name="Gold", position=3, min_spend=Decimal("500"))
    make_coupon(code="GOLDONLY", conditions=[{"type": "tier", "slug": "gold"}])
    client.force_login(UserFactory())
    add_to_cart(client)
    refusal(client, "GOLDONLY", "This code is for Gold members and above.")


def test_codes_that_do_not_combine(client):
    add_to_cart(client)
    make_coupon(code="A10")
    make_coupon(code="B10")
    assert apply_code(client, "A10").status_code == 302
    response = apply_code(client, "B10")
    assert response.status_code == 400
    assert "This code cannot be combined with A10." in response.content.decode()
    assert Cart.objects.get().coupon_codes == ["A10"]


def test_a_code_refused_at_checkout_keeps_the_form_page(client, checkout_data):
    add_to_cart(client)
    response = apply_code(client, "NOPE", next="checkout")
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is no code NOPE" in page and "Pay and place order" in page


def page_token(client):
    page = client.get(reverse("shop:checkout"))
    assert page.status_code == 200
    quote = page.context["quote"]
    quote.page_token = hidden_quote(page)
    # The same snapshot (each signing stamps its own second, so the texts may differ by that).
    from django.core import signing

    from shop.pricing import TOKEN_SALT

    assert signing.loads(quote.page_token, salt=TOKEN_SALT) == quote.snapshot()
    return quote


def test_a_price_change_before_payment_shows_the_new_total_and_asks_again(client, checkout_data):
    product = add_to_cart(client, price="20.99", quantity=2)
    shown = page_token(client)
    assert shown.total_with(checkout_data["shipping_method"]) == Decimal("46.88")
    Product.objects.filter(pk=product.pk).update(price=Decimal("30.99"))  # staff edit

    response = client.post(reverse("shop:checkout"), {**checkout_data, "quote": shown.page_token})
    assert response.status_code == 409
    page = response.content.decode()
    assert "changed from €20.99 to €30.99" in page
    assert "€66.88" in page  # 61.98 + 4.90, shown before anything is charged
    assert not Order.objects.exists()

    new_token = hidden_quote(response)
    confirmed = client.post(reverse("shop:checkout"), {**checkout_data, "quote": new_token})
    assert confirmed.status_code == 302
    assert Order.objects.get().total == Decimal("66.88")


def test_a_shipping_price_change_asks_again(client, checkout_data):
    add_to_cart(client, price="10.00")
    shown = page_token(client)
    ShippingMethod.objects.update(price=Decimal("6.90"))
    response = client.post(reverse("shop:checkout"), {**checkout_data, "quote": shown.page_token})
    assert response.status_code == 409
    assert "Shipping changed from €4.90 to €6.90." in response.content.decode()
    assert not Order.objects.exists()


def test_a_coupon_that_expires_before_payment_is_shown_and_asked_again(client, checkout_data):
    add_to_cart(client, price="30.00")
    make_coupon(code="SOON")
    assert apply_code(client, "SOON").status_code == 302
    shown = page_token(client)
    assert shown.discount_total == Decimal("3.00")
    Coupon.objects.filter(code="SOON").update(valid_until=timezone.now() - timedelta(minutes=1))

    response = client.post(reverse("shop:checkout"), {**checkout_data, "quote": shown.page_token})
    assert response.status_code == 409
    assert "The code SOON was removed: This code expired on" in response.content.decode()
    assert not Order.objects.exists()
    confirmed = client.post(
        reverse("shop:checkout"), {**checkout_data, "quote": hidden_quote(response)}
    )
    assert confirmed.status_code == 302
    order = Order.objects.get()
    assert (order.discount_total, order.total) == (Decimal("0.00"), Decimal("34.90"))
    assert not OrderDiscount.objects.exists()
    assert Coupon.objects.get(code="SOON").uses == 0, "the expired code was not consumed"


def test_a_forged_or_missing_quote_is_never_charged(client, checkout_data):
    add_to_cart(client)
    for token in ["", "forged:token"]:
        response = client.post(reverse("shop:checkout"), {**checkout_data, "quote": token})
        assert response.status_code == 409
        assert "too old or was altered" in response.content.decode()
    assert not Order.objects.exists()


def test_checkout_shows_every_shipping_price_and_its_total(client, shipping):
    ShippingMethod.objects.create(code="express", name="Express", price=Decimal("9.90"), position=2)
    add_to_cart(client, price="20.99", quantity=2)
    page = client.get(reverse("shop:checkout")).content.decode()
    assert "Standard" in page and "€4.90" in page and "total €46.88" in page
    assert "Express" in page and "€9.90" in page and "total €51.88" in page
    assert "free from €100.00" in page


def test_free_shipping_on_an_order_that_ships_free_anyway_is_not_used_up(shipping):
    from personalization.loyalty.models import CouponRedemption
    from tests.factories import UserFactory
    from tests.loyalty.conftest import buy

    shopper = UserFactory()
    coupon = make_coupon(
        code="SHIPME", benefit_type="free_shipping", owner=shopper, kind="single", max_uses=1
    )
    free_anyway = buy(user=shopper, shipping=shipping, price="120.00", codes=["SHIPME"])
    assert free_anyway.shipping_cost == 0, "precondition: above the free-shipping threshold"
    assert free_anyway.discount_total == 0
    coupon.refresh_from_db()
    assert coupon.uses == 0 and not CouponRedemption.objects.exists()

    paid_shipping = buy(user=shopper, shipping=shipping, price="20.00", codes=["SHIPME"])
    assert paid_shipping.discount_total == paid_shipping.shipping_cost > 0
    coupon.refresh_from_db()
    assert coupon.uses == 1
