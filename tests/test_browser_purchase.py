"""A shopper buys a product from the home page to the confirmation, in headless Chromium."""

from decimal import Decimal

import pytest

from shop.models import Order
from tests.browser import browser, screenshot
from tests.factories import ProductFactory, ProductImageFactory, ShippingMethodFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [(1366, 900), (390, 844)], ids=["desktop", "phone"])
def test_buy_from_home_page_to_confirmation(live_server, viewport):
    product = ProductFactory(
        name="Harbour Rain Jacket",
        price=Decimal("89.00"),
        variants=[{"size": "S", "stock": 0}, {"size": "M", "stock": 3}],
    )
    ProductImageFactory(product=product, alt="Harbour Rain Jacket, front")
    ShippingMethodFactory()
    width, height = viewport

    with browser() as chromium:
        page = chromium.new_page(viewport={"width": width, "height": height})
        page.goto(live_server.url + "/")
        page.get_by_role("link", name="Harbour Rain Jacket").first.click()
        page.wait_for_url(f"**{product.get_absolute_url()}")
        page.select_option("#variant", label="M — only 3 left")
        page.fill("#quantity", "2")
        page.get_by_role("button", name="Add to cart").click()
        page.wait_for_url("**/cart/")
        assert "Added 2 × Harbour Rain Jacket (M)" in page.content()
        page.get_by_role("link", name="Checkout").click()
        page.get_by_label("Email for the receipt").fill("ana@example.test")
        page.get_by_label("Full name").fill("Ana Novak")
        page.get_by_label("Address", exact=True).fill("1 Market Street")
        page.get_by_label("Postcode").fill("10115")
        page.get_by_label("City").fill("Berlin")
        page.get_by_label("Standard").check()
        page.get_by_label("Card number").fill("4000 0000 0000 0002")
        page.get_by_label("Expiry (MM/YY)").fill("12/35")
        page.get_by_label("CVC").fill("123")
        page.get_by_role("button", name="Pay and place order").click()
        assert "Your card was declined." in page.content()
        page.get_by_label("Card number").fill("4242 4242 4242 4242")
        page.get_by_label("Expiry (MM/YY)").fill("12/35")
        page.get_by_label("CVC").fill("123")
        page.get_by_role("button", name="Pay and place order").click()
        page.wait_for_url("**/thanks/")
        screenshot(page, f"purchase-confirmation-{width}")
        heading = page.get_by_role("heading", level=1).inner_text()

    order = Order.objects.get()
    assert heading == "Thank you, Ana Novak!"
    assert order.total == Decimal("178.00")  # free shipping over 60
    assert order.lines.get().quantity == 2
    assert product.variants.get(size="M").stock == 1


def test_gallery_thumbnail_shows_in_the_main_image(live_server):
    product = ProductFactory(name="Mug")
    ProductImageFactory(product=product, alt="Mug, front", position=0)
    ProductImageFactory(product=product, alt="Mug, side", position=1)
    with browser() as chromium:
        page = chromium.new_page()
        page.goto(live_server.url + product.get_absolute_url())
        assert page.get_attribute("#main-image", "alt") == "Mug, front"
        page.get_by_alt_text("Mug, side").click()
        assert page.get_attribute("#main-image", "alt") == "Mug, side"
        assert page.url.endswith(product.get_absolute_url())  # no navigation
