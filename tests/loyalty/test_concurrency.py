"""Coupon limits hold under real concurrent checkouts on PostgreSQL."""

import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from personalization.loyalty.models import Coupon, CouponRedemption, CouponUsage
from shop.checkout import order_place
from shop.exceptions import PaymentDeclined
from shop.models import Cart, CartItem, Order
from shop.pricing import QuoteChanged, quote_build
from tests.factories import ProductFactory, ShippingMethodFactory, UserFactory
from tests.loyalty.conftest import ADDRESS, CARD, DECLINED, buy
from tests.loyalty_factories import make_coupon


def race(carts, *, shipping, users, tokens):
    barrier = threading.Barrier(len(carts))
    outcomes, lock = [], threading.Lock()

    def checkout(cart, user, token):
        close_old_connections()
        try:
            barrier.wait()
            order = order_place(
                cart=cart,
                user=user,
                email=user.email,
                address=ADDRESS,
                shipping_method=shipping,
                card=CARD,
                quote_token=token,
                notify=False,
            )
            result = ("discounted", order.discount_total)
        except QuoteChanged as error:
            result = ("refused", " ".join(error.changes))
        except Exception as error:  # anything else is a bug this test must show
            result = ("error", repr(error))
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=checkout, args=args)
        for args in zip(carts, users, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def token_for(cart, *, user, shipping):
    from shop.checkout import priced_line

    lines = [
        priced_line(i.variant, i.quantity)
        for i in cart.items.select_related("variant__product__category")
    ]
    quote, _ = quote_build(
        lines=lines,
        user=user,
        email=user.email,
        shipping_methods=[shipping],
        shipping_method_id=shipping.pk,
        codes=cart.coupon_codes,
    )
    assert quote.discount_total > 0, "every shopper saw the discount on their page"
    return quote.token


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_checkouts_with_one_single_use_code_give_one_discount_and_19_refusals():
    shipping = ShippingMethodFactory()
    make_coupon(code="ONLYONE", max_uses=1)
    users, carts = [], []
    for n in range(20):
        # each buys a different product: no stock row lock serializes them, only the coupon
        variant = ProductFactory(price=Decimal("30.00"), stock=100).variants.get()
        user = UserFactory(username=f"racer{n}")
        cart = Cart.objects.create(user=user, coupon_codes=["ONLYONE"])
        CartItem.objects.create(cart=cart, variant=variant, quantity=1)
        users.append(user)
        carts.append(cart)
    tokens = [token_for(c, user=u, shipping=shipping) for c, u in zip(carts, users, strict=True)]

    outcomes = race(carts, shipping=shipping, users=users, tokens=tokens)

    assert sorted(kind for kind, _ in outcomes) == ["discounted"] + ["refused"] * 19, outcomes
    assert [v for k, v in outcomes if k == "discounted"] == [Decimal("3.00")]
    for kind, words in outcomes:
        if kind == "refused":
            assert words == "The code ONLYONE was removed: This code has been used up."
    assert Order.objects.count() == 1
    assert Coupon.objects.get(code="ONLYONE").uses == 1
    assert CouponRedemption.objects.count() == 1
    assert CartItem.objects.count() == 19  # the refused keep their carts


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_per_shopper_limit_holds_under_ten_concurrent_checkouts_of_one_shopper():
    shipping = ShippingMethodFactory()
    make_coupon(code="TWICE", max_uses=None, max_uses_per_shopper=2)
    shopper = UserFactory(username="busy")
    carts = []
    for n in range(10):  # ten browser sessions of the same shopper, ten different products
        variant = ProductFactory(price=Decimal("30.00"), stock=100).variants.get()
        cart = Cart.objects.create(session_key=f"tab-{n}", coupon_codes=["TWICE"])
        CartItem.objects.create(cart=cart, variant=variant, quantity=1)
        carts.append(cart)
    tokens = [token_for(c, user=shopper, shipping=shipping) for c in carts]

    outcomes = race(carts, shipping=shipping, users=[shopper] * 10, tokens=tokens)

    assert sorted(kind for kind, _ in outcomes) == ["discounted"] * 2 + ["refused"] * 8, outcomes
    for kind, words in outcomes:
        if kind == "refused":
            assert "You have already used this code the 2 times it allows." in words
    assert CouponUsage.objects.get(shopper_key=f"user:{shopper.pk}").uses == 2
    assert Coupon.objects.get(code="TWICE").uses == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_declined_payment_releases_the_coupon_use():
    shipping = ShippingMethodFactory()
    make_coupon(code="SINGLE", max_uses=1)
    unlucky, lucky = UserFactory(username="unlucky"), UserFactory(username="lucky")
    with pytest.raises(PaymentDeclined):
        buy(user=unlucky, shipping=shipping, codes=["SINGLE"], card=DECLINED)
    coupon = Coupon.objects.get(code="SINGLE")
    assert coupon.uses == 0
    assert not CouponUsage.objects.filter(uses__gt=0).exists()
    assert not Order.objects.exists()
    assert Cart.objects.get(user=unlucky).coupon_codes == ["SINGLE"]  # nothing lost

    order = buy(user=lucky, shipping=shipping, codes=["SINGLE"])
    assert order.discount_total == Decimal("2.00")
    coupon.refresh_from_db()
    assert coupon.uses == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_submissions_of_one_cart_place_one_order():
    shipping = ShippingMethodFactory()
    variant = ProductFactory(price=Decimal("30.00"), stock=100).variants.get()
    shopper = UserFactory(username="double")
    cart = Cart.objects.create(user=shopper)
    CartItem.objects.create(cart=cart, variant=variant, quantity=1)
    barrier = threading.Barrier(2)
    outcomes = []

    def submit():
        close_old_connections()
        try:
            barrier.wait()
            order_place(
                cart=cart,
                user=shopper,
                email=shopper.email,
                address=ADDRESS,
                shipping_method=shipping,
                card=CARD,
                notify=False,
            )
            outcomes.append("ok")
        except Exception as error:
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["EmptyCart", "ok"]
    assert Order.objects.count() == 1
