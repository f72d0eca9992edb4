"""axe-core (bundled by axe-playwright-python, no network) finds no serious or critical
accessibility violations on the store's main pages, on a phone and a desktop."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.browser import browser
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    ShippingMethodFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_store_pages_have_no_serious_axe_violations(live_server):
    from axe_playwright_python.sync_playwright import Axe

    category = CategoryFactory(name="Jackets")
    product = ProductFactory(
        name="Harbour Rain Jacket",
        price=Decimal("89.00"),
        category=category,
        variants=[{"size": "S", "stock": 0}, {"size": "M", "stock": 3}],
    )
    ProductImageFactory(product=product, alt="Harbour Rain Jacket, front")
    for _ in range(3):
        ProductImageFactory(product=ProductFactory(category=category))
    ShippingMethodFactory()
    paths = [
        "/",
        reverse("shop:product_list") + "?q=jacket",
        reverse("shop:category", args=["jackets"]),
        product.get_absolute_url(),
        reverse("account_login"),
    ]
    axe = Axe()
    problems = {}
    with browser() as chromium:
        for width, height in [(1366, 900), (390, 844)]:
            page = chromium.new_page(viewport={"width": width, "height": height})
            for path in paths:
                page.goto(live_server.url + path)
                results = axe.run(page)
                serious = [
                    f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
                    for v in results.response["violations"]
                    if v["impact"] in {"serious", "critical"}
                ]
                if serious:
                    problems[f"{path} @{width}"] = serious
            # the cart and checkout, with something in the cart
            page.goto(live_server.url + product.get_absolute_url())
            page.select_option("#variant", label="M — only 3 left")
            page.get_by_role("button", name="Add to cart").click()
            for path in [reverse("shop:cart"), reverse("shop:checkout")]:
                page.goto(live_server.url + path)
                results = axe.run(page)
                serious = [
                    f"{v['id']}: {v['help']}"
                    for v in results.response["violations"]
                    if v["impact"] in {"serious", "critical"}
                ]
                if serious:
                    problems[f"{path} @{width}"] = serious
            page.close()
    assert problems == {}
