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


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_sign_in_says_how_the_store_changed_the_cart(client):
    """Issue 17, item 8: merged quantities, stock caps, withdrawn and sold-out items and the
    lines saved earlier are each named in a message after sign-in."""
    from shop.models import Product, Variant

    user = UserFactory(email="cara@example.test")
    mug = ProductFactory(name="Mug", stock=5).variants.get()
    pan = ProductFactory(name="Pan", stock=3).variants.get()
    lamp = ProductFactory(name="Lamp", stock=4).variants.get()
    kite = ProductFactory(name="Kite", stock=4).variants.get()
    sock = ProductFactory(name="Sock", stock=9).variants.get()
    saved = Cart.objects.create(user=user, coupon_codes=["SAVED10"])
    saved.items.create(variant=mug, quantity=1)
    saved.items.create(variant=pan, quantity=2)
    saved.items.create(variant=sock, quantity=2)
    for variant, quantity in ((mug, "1"), (pan, "2"), (lamp, "1"), (kite, "1")):
        assert add(client, variant.pk, quantity).status_code == 302
    anon = Cart.objects.get(session_key__isnull=False)
    assert anon.items.count() == 4
    Product.objects.filter(pk=lamp.product_id).update(is_active=False)  # withdrawn
    Variant.objects.filter(pk=kite.pk).update(stock=0)  # sold out meanwhile
    Cart.objects.filter(pk=anon.pk).update(coupon_codes=["HELLO5"])

    response = client.post(
        reverse("account_login"),
        {"login": "cara@example.test", "password": PASSWORD},
        follow=True,
    )

    assert response.status_code == 200 and response.context["user"] == user
    cart = Cart.objects.get(user=user)
    assert {i.variant_id: i.quantity for i in cart.items.all()} == {
        mug.pk: 2,
        pan.pk: 3,
        sock.pk: 2,
    }
    assert cart.coupon_codes == ["SAVED10", "HELLO5"]
    said = _messages(response)
    assert (
        f"{mug}: the 1 you added and the 1 saved in your cart from an earlier visit make 2." in said
    )
    assert (
        f"{pan}: you had 2 saved in your cart and added 2; only 3 can be ordered, so your cart "
        "has 3." in said
    )
    assert f"{lamp} is no longer sold, so it was not added to your cart." in said
    assert f"{kite} is out of stock, so it was not added to your cart." in said
    assert "Your cart also holds 2 items you saved on an earlier visit." in said


def test_sign_in_without_a_saved_cart_changes_nothing_and_says_nothing_about_it(client):
    user = UserFactory(email="dan@example.test")
    mug = ProductFactory(name="Mug", stock=5).variants.get()
    assert add(client, mug.pk, "2").status_code == 302
    response = client.post(
        reverse("account_login"), {"login": "dan@example.test", "password": PASSWORD}, follow=True
    )
    assert response.context["user"] == user
    assert {i.variant_id: i.quantity for i in Cart.objects.get(user=user).items.all()} == {
        mug.pk: 2
    }
    said = _messages(response)
    assert any(m.startswith("Added ") for m in said), "the add itself was confirmed"
    # Nothing about the cart beyond that (the sign-in's own greeting may follow).
    assert not [m for m in said if not m.startswith(("Added ", "Successfully signed in"))], said
