"""Stock never oversells: checkouts race on real threads against PostgreSQL."""

import threading

import pytest
from django.db import close_old_connections, connection

from shop.checkout import Address, order_place
from shop.exceptions import OutOfStock
from shop.models import Cart, CartItem, Order, Variant
from shop.payments import Card
from tests.factories import ProductFactory, ShippingMethodFactory, UserFactory

CARD = Card(number="4242424242424242", expiry_month=12, expiry_year=2035, cvc="123")
ADDRESS = Address(full_name="A B", line1="1 Road", city="Berlin", postcode="10115", country="DE")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_checkouts_for_the_last_five_units():
    variant = ProductFactory(stock=5).variants.get()
    shipping = ShippingMethodFactory()
    carts = []
    for n in range(20):
        cart = Cart.objects.create(user=UserFactory(username=f"racer{n}"))
        CartItem.objects.create(cart=cart, variant=variant, quantity=1)
        carts.append(cart)
    barrier = threading.Barrier(20)
    outcomes = []
    lock = threading.Lock()

    def checkout(cart):
        close_old_connections()
        try:
            barrier.wait()
            order_place(
                cart=cart,
                user=cart.user,
                email="racer@example.test",
                address=ADDRESS,
                shipping_method=shipping,
                card=CARD,
                notify=False,
            )
            result = "ok"
        except OutOfStock:
            result = "out"
        except Exception as error:  # anything else is a bug this test must show
            result = repr(error)
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=checkout, args=(cart,)) for cart in carts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["ok"] * 5 + ["out"] * 15
    assert Order.objects.count() == 5
    variant.refresh_from_db()
    assert variant.stock == 0
    # the losers keep their carts
    assert CartItem.objects.count() == 15


@pytest.mark.django_db
def test_the_database_refuses_negative_stock():
    from django.db import IntegrityError
    from django.db.models import F

    variant = ProductFactory(stock=1).variants.get()
    with pytest.raises(IntegrityError):
        Variant.objects.filter(pk=variant.pk).update(stock=F("stock") - 2)
