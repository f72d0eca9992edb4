"""A signed-in shopper adds to the cart from a page served by shop.signed, in headless
Chromium: the CSRF token put into the cached page per response passes Django's check."""

from decimal import Decimal

import pytest

from shop.models import Cart
from tests.browser import browser
from tests.factories import PASSWORD, ProductFactory, ProductImageFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_add_to_cart_from_a_cached_signed_in_page(live_server, settings):
    settings.AGORA_PAGE_CACHE = True
    settings.AGORA_SIGNED_PAGE_CACHE = True
    shopper = UserFactory()
    product = ProductFactory(
        name="Harbour Rain Jacket",
        price=Decimal("89.00"),
        variants=[{"size": "M", "stock": 3}],
    )
    ProductImageFactory(product=product)
    url = live_server.url + product.get_absolute_url()
    with browser() as chromium:
        page = chromium.new_page()
        page.goto(live_server.url + "/accounts/login/")
        page.fill("input[name=login]", shopper.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(live_server.url + "/")
        first = page.goto(url)
        assert first.headers.get("x-agora-signed-cache") == "miss"
        served = page.goto(url)
        assert served.headers.get("x-agora-signed-cache") == "hit"
        assert "Sign out" in page.content()
        page.fill("#quantity", "2")
        page.get_by_role("button", name="Add to cart").click()
        page.wait_for_url("**/cart/")
        assert "Added 2 × Harbour Rain Jacket (M)" in page.content()
        again = page.goto(url)  # the cart changed: rendered again, with the new count
        assert again.headers.get("x-agora-signed-cache") == "miss"
        assert page.locator("#cart-count").inner_text() == "2"
    assert Cart.objects.get(user=shopper).items.get().quantity == 2
