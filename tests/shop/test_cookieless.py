"""Anonymous visitors get no session and no cookie until they need one (issue 15).

A fresh client walks the store's pages and must receive no Set-Cookie; CSRF keeps working when
the visitor then sends a form with a token made on their side (what ``agora.js`` does).
"""

import re

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from personalization.events import ANON_KEY
from personalization.models import Event
from shop.models import Cart
from shop.services import product_reindex
from tests.factories import CategoryFactory, ProductFactory, ProductImageFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "Abcdefghijklmnopqrstuvwxyz012345"  # 32 characters, as agora.js makes them


@pytest.fixture
def store():
    shoes = CategoryFactory(name="Shoes")
    runner = ProductFactory(name="Trail runner", category=shoes)
    ProductImageFactory(product=runner)
    for n in range(30):  # two pages of the product list
        ProductFactory(name=f"Walker {n}", category=shoes)
    product_reindex()  # the search index
    return runner


def store_pages(runner):
    return [
        reverse("shop:home"),
        reverse("shop:product_list"),
        reverse("shop:product_list") + "?page=2",
        reverse("shop:product_list") + "?sort=price",
        reverse("shop:category", args=["shoes"]),
        reverse("shop:product_list") + "?q=trail",
        runner.get_absolute_url(),
    ]


def test_store_pages_set_no_cookie_for_a_new_visitor(store):
    client = Client()
    for path in store_pages(store):
        response = client.get(path)
        assert response.status_code == 200, path
        assert re.search(r"Trail runner|Walker \d+", response.content.decode()), path
        assert "Set-Cookie" not in str(response.serialize_headers()), path
        assert not response.cookies, (path, list(response.cookies))
    assert Session.objects.count() == 0
    # the visit still counts: the view and the search are recorded, without a visitor key
    view = Event.objects.get(kind=Event.Kind.VIEW)
    assert view.product == store and view.session_key == "" and view.user is None
    assert Event.objects.filter(kind=Event.Kind.SEARCH, session_key="").count() == 1


def test_the_product_page_form_carries_no_token_until_the_visitor_has_a_cookie(store):
    client = Client()
    page = client.get(store.get_absolute_url()).content.decode()
    assert reverse("shop:cart_add") in page
    assert not re.search(r'name="csrfmiddlewaretoken" value="[^"]+"', page)
    client.cookies[settings.CSRF_COOKIE_NAME] = SECRET
    again = client.get(store.get_absolute_url()).content.decode()
    assert re.search(r'name="csrfmiddlewaretoken" value="[^"]+"', again)


def test_a_visitor_token_made_in_the_browser_passes_csrf_and_starts_the_session(store):
    client = Client(enforce_csrf_checks=True)
    variant = store.variants.get()
    refused = client.post(reverse("shop:cart_add"), {"variant": variant.pk, "quantity": 1})
    assert refused.status_code == 403  # CSRF is still enforced
    assert not Cart.objects.exists()

    client.cookies[settings.CSRF_COOKIE_NAME] = SECRET
    response = client.post(
        reverse("shop:cart_add"),
        {"variant": variant.pk, "quantity": 1, "csrfmiddlewaretoken": SECRET},
    )
    assert response.status_code == 302
    assert settings.SESSION_COOKIE_NAME in response.cookies  # now a cookie is needed
    cart = Cart.objects.get()
    assert cart.items.get().variant == variant
    # the visitor now has an anonymous id: their next view carries it, so it can be merged
    client.get(store.get_absolute_url())
    view = Event.objects.filter(kind=Event.Kind.VIEW).latest("pk")
    assert view.session_key and view.session_key == client.session[ANON_KEY] == cart.session_key


def test_a_wrong_browser_token_is_refused(store):
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.CSRF_COOKIE_NAME] = SECRET
    response = client.post(
        reverse("shop:cart_add"),
        {"variant": store.variants.get().pk, "quantity": 1, "csrfmiddlewaretoken": "x" * 32},
    )
    assert response.status_code == 403
    assert not Cart.objects.exists()


def test_signed_in_shoppers_and_other_pages_keep_djangos_token(store, client):
    login = client.get(reverse("account_login"))
    assert re.search(r'name="csrfmiddlewaretoken" value="[^"]+"', login.content.decode())
    assert settings.CSRF_COOKIE_NAME in login.cookies  # sign-in needs the cookie at once
    client.force_login(UserFactory())
    page = client.get(store.get_absolute_url()).content.decode()
    assert re.search(r'name="csrfmiddlewaretoken" value="[^"]+"', page)
