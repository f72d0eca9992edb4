import pytest
from django.urls import reverse

from personalization.models import Event
from shop.models import Cart, CartItem
from tests.factories import PASSWORD, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def add(client, variant_id, quantity="1"):
    return client.post(reverse("shop:cart_add"), {"variant": variant_id, "quantity": quantity})


def test_anonymous_shopper_adds_to_cart_and_sees_it(client):
    product = ProductFactory(name="Mug", stock=5)
    variant = product.variants.get()

    response = add(client, variant.pk, "2")

    assert response.status_code == 302
    page = client.get(reverse("shop:cart"))
    assert page.context["summary"].count == 2
    assert page.context["cart_count"] == 2
    assert Event.objects.filter(kind="add_to_cart", product=product, user=None).exists()


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("abc", "whole number"),
        ("-1", "at least 1"),
        ("0", "at least 1"),
        ("1.5", "whole number"),
        ("100", "at most 99"),
    ],
)
def test_bad_quantities_get_a_clear_400_and_change_nothing(client, quantity, message):
    variant = ProductFactory(stock=5).variants.get()
    response = add(client, variant.pk, quantity)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert CartItem.objects.count() == 0


def test_more_than_stock_is_refused_with_what_is_left(client):
    variant = ProductFactory(name="Lamp", stock=3).variants.get()
    add(client, variant.pk, "2")
    response = add(client, variant.pk, "2")
    assert response.status_code == 409
    assert "Only 3 of Lamp" in response.content.decode()
    assert CartItem.objects.get().quantity == 2  # nothing lost


@pytest.mark.parametrize(
    "variant_id,status,message",
    [
        ("999999", 404, "That size or colour is not one we sell."),
        ("x", 404, "That size or colour is not one we sell."),
        ("", 400, "Choose a size or colour before adding it to your cart."),
    ],
)
def test_unknown_product_is_4xx_with_the_real_reason(client, variant_id, status, message):
    response = add(client, variant_id)
    assert response.status_code == status
    assert message in response.content.decode()
    assert "does not exist" not in response.content.decode()


def test_hidden_product_cannot_be_added(client):
    variant = ProductFactory(is_active=False).variants.get()
    assert add(client, variant.pk).status_code == 404


def test_update_and_remove_lines(client):
    variant = ProductFactory(stock=5).variants.get()
    add(client, variant.pk, "1")
    item = CartItem.objects.get()
    url = reverse("shop:cart_update", args=[item.pk])
    assert client.post(url, {"quantity": "4"}).status_code == 302
    assert CartItem.objects.get().quantity == 4
    assert client.post(url, {"quantity": "9"}).status_code == 409
    assert client.post(url, {"quantity": "zz"}).status_code == 400
    assert CartItem.objects.get().quantity == 4
    client.post(reverse("shop:cart_remove", args=[item.pk]))
    assert not CartItem.objects.exists()


def test_someone_elses_cart_line_is_not_reachable(client):
    other = UserFactory()
    variant = ProductFactory().variants.get()
    cart = Cart.objects.create(user=other)
    item = CartItem.objects.create(cart=cart, variant=variant, quantity=1)
    add(client, variant.pk)  # gives this visitor a cart of their own
    response = client.post(reverse("shop:cart_update", args=[item.pk]), {"quantity": "5"})
    assert response.status_code == 404
    assert CartItem.objects.get(pk=item.pk).quantity == 1


def test_anonymous_cart_and_events_merge_into_the_shopper_at_sign_in(client):
    user = UserFactory(email="ben@example.test")
    mug = ProductFactory(name="Mug", stock=5).variants.get()
    pan = ProductFactory(name="Pan", stock=2).variants.get()
    Cart.objects.create(user=user).items.create(variant=pan, quantity=1)
    add(client, mug.pk, "2")
    add(client, pan.pk, "2")
    client.get(mug.product.get_absolute_url())

    response = client.post(
        reverse("account_login"), {"login": "ben@example.test", "password": PASSWORD}
    )

    assert response.status_code == 302
    cart = Cart.objects.get(user=user)
    assert {i.variant_id: i.quantity for i in cart.items.all()} == {mug.pk: 2, pan.pk: 2}
    assert Cart.objects.count() == 1
    assert Event.objects.filter(user=user, kind="view").count() == 1
    assert not Event.objects.filter(user=None).exists()
