from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from personalization.models import Event
from shop.exceptions import InvalidStatusTransition
from shop.models import Cart, CartItem, Order, Variant
from shop.services import order_set_status
from tests.factories import ProductFactory, UserFactory, checkout_post

pytestmark = pytest.mark.django_db


def fill_cart(client, *, price="25.00", stock=5, quantity="2"):
    product = ProductFactory(name="Backpack", price=Decimal(price), stock=stock)
    variant = product.variants.get()
    client.post(reverse("shop:cart_add"), {"variant": variant.pk, "quantity": quantity})
    return variant


def test_checkout_places_a_paid_order_with_server_prices(
    client, checkout_data, django_capture_on_commit_callbacks
):
    variant = fill_cart(client)
    tampered = {**checkout_data, "price": "0.01", "total": "0.01", "unit_price": "0.01"}

    with django_capture_on_commit_callbacks(execute=True):
        response = checkout_post(client, tampered)

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("shop:order_confirmation", args=[order.number])
    assert order.subtotal == Decimal("50.00")
    assert order.shipping_cost == Decimal("4.90")
    assert order.total == Decimal("54.90")
    assert order.status == Order.Status.PAID
    assert order.card_last4 == "4242"
    variant.refresh_from_db()
    assert variant.stock == 3
    assert not CartItem.objects.exists()
    purchase = Event.objects.get(kind="purchase")
    assert purchase.value == Decimal("50.00")
    assert purchase.attributes["variant"] == variant.pk  # size affinity in profiles
    assert order.events.get().kind == "placed"
    assert len(mail.outbox) == 1
    assert order.number in mail.outbox[0].subject
    assert "54.90" in mail.outbox[0].body
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert order.number in page.content.decode()


def test_free_shipping_over_threshold(client, checkout_data):
    fill_cart(client, price="40.00")
    checkout_post(client, checkout_data)
    assert Order.objects.get().shipping_cost == Decimal("0.00")


def test_declined_card_is_a_402_and_loses_nothing(client, checkout_data):
    variant = fill_cart(client)
    data = {**checkout_data, "card_number": "4000 0000 0000 0002"}

    response = checkout_post(client, data)

    assert response.status_code == 402
    assert "Your card was declined." in response.content.decode()
    assert 'value="Ana Novak"' in response.content.decode()  # the form keeps what was typed
    assert not Order.objects.exists()
    assert CartItem.objects.get().quantity == 2
    variant.refresh_from_db()
    assert variant.stock == 5


def test_gateway_failure_is_reported_and_can_be_retried(client, checkout_data):
    fill_cart(client)
    failed = checkout_post(client, {**checkout_data, "card_number": "4000000000000119"})
    assert failed.status_code == 402
    assert "try again" in failed.content.decode()
    assert checkout_post(client, checkout_data).status_code == 302


def test_invalid_form_is_a_400_with_field_errors(client, checkout_data):
    fill_cart(client)
    data = {**checkout_data, "card_number": "1234", "card_expiry": "13/99", "email": "nope"}
    response = checkout_post(client, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "That card number is not valid." in html
    assert "between 01 and 12" in html
    assert not Order.objects.exists()


def test_expired_card_is_refused(client, checkout_data):
    fill_cart(client)
    response = checkout_post(client, {**checkout_data, "card_expiry": "01/20"})
    assert response.status_code == 400
    assert "This card has expired." in response.content.decode()


def test_checkout_with_an_empty_cart_is_a_400(client, checkout_data):
    response = checkout_post(client, checkout_data)
    assert response.status_code == 400
    assert "Your cart is empty" in response.content.decode()


def test_out_of_stock_at_checkout_is_a_409_and_keeps_the_cart(client, checkout_data):
    variant = fill_cart(client, stock=5, quantity="3")
    Variant.objects.filter(pk=variant.pk).update(stock=1)  # someone else bought them

    response = checkout_post(client, checkout_data)

    assert response.status_code == 409
    assert "only 1 left" in response.content.decode()
    assert CartItem.objects.get().quantity == 3
    assert not Order.objects.exists()


def test_product_withdrawn_before_checkout(client, checkout_data):
    variant = fill_cart(client)
    variant.product.is_active = False
    variant.product.save()
    response = checkout_post(client, checkout_data)
    assert response.status_code == 404
    assert "no longer sold" in response.content.decode()


def test_signed_in_shopper_sees_orders_and_others_cannot(client, checkout_data):
    user = UserFactory()
    client.force_login(user)
    fill_cart(client)
    checkout_post(client, checkout_data)
    order = Order.objects.get()
    assert order.user == user

    page = client.get(reverse("shop:my_orders"))
    assert order.number in page.content.decode()
    assert client.get(order.get_absolute_url()).status_code == 200

    client.force_login(UserFactory())
    assert client.get(order.get_absolute_url()).status_code == 404
    assert order.number not in client.get(reverse("shop:my_orders")).content.decode()


def test_status_lifecycle_restocks_on_cancel_and_rejects_bad_moves(
    client, checkout_data, django_capture_on_commit_callbacks
):
    variant = fill_cart(client)
    checkout_post(client, checkout_data)
    order = Order.objects.get()
    staff = UserFactory(is_staff=True)

    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status=Order.Status.CANCELLED, actor=staff)

    variant.refresh_from_db()
    assert variant.stock == 5
    assert [e.kind for e in order.events.all()] == ["placed", "status"]
    assert "cancelled" in mail.outbox[0].subject
    with pytest.raises(InvalidStatusTransition):
        order_set_status(order_id=order.pk, status=Order.Status.SHIPPED)


def test_staff_move_orders_through_statuses_in_the_admin(admin_client, client, checkout_data):
    fill_cart(client)
    checkout_post(client, checkout_data)
    order = Order.objects.get()
    url = reverse("admin:shop_order_changelist")

    admin_client.post(url, {"action": "mark_shipped", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    response = admin_client.post(
        url, {"action": "mark_cancelled", "_selected_action": [order.pk]}, follow=True
    )
    assert "cannot go from Shipped to Cancelled" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert admin_client.get(url, {"q": order.number}).status_code == 200
    assert admin_client.get(url, {"status__exact": "shipped"}).status_code == 200


def test_cart_belongs_to_one_owner():
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Cart.objects.create()
