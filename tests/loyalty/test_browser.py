"""A shopper applies a code, sees the discount, is asked again after a price change; the
rewards, cart and checkout pages pass axe at phone and desktop widths (screenshots in
test-artifacts/)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from personalization.loyalty.models import Coupon
from personalization.loyalty.services import coupons_issue_earned
from shop.models import Order, Product
from tests.browser import browser, screenshot
from tests.factories import PASSWORD, ProductFactory, ProductImageFactory, UserFactory
from tests.loyalty.conftest import buy
from tests.loyalty_factories import EarnRuleFactory, TierFactory, make_coupon

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def serious(axe, page):
    return [
        f"{v['id']}: {v['help']}"
        for v in axe.run(page).response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def test_code_discount_confirm_again_and_rewards_in_a_real_browser(live_server):
    from axe_playwright_python.sync_playwright import Axe

    from tests.factories import ShippingMethodFactory

    shipping = ShippingMethodFactory(free_over=Decimal("200.00"))
    TierFactory(name="Bronze", slug="bronze", position=1, min_spend=0, min_orders=0)
    TierFactory(name="Silver", position=2, min_spend=Decimal("100"), min_orders=2)
    EarnRuleFactory(
        trigger="nth_order", threshold=1, benefit_type="fixed", benefit_value=Decimal("5")
    )
    shopper = UserFactory(username="browsing")
    buy(user=shopper, shipping=shipping, price="30.00")
    coupons_issue_earned()
    make_coupon(code="SPRING15", benefit_value=Decimal("15"), max_uses_per_shopper=None)
    product = ProductFactory(name="Stoneware Mug", price=Decimal("20.99"))
    ProductImageFactory(product=product, alt="Stoneware Mug")
    axe = Axe()
    problems = {}
    with browser() as chromium:
        for width, height in [(1366, 900), (390, 844)]:
            page = chromium.new_page(viewport={"width": width, "height": height})
            page.goto(live_server.url + reverse("account_login"))
            page.fill("input[name=login]", shopper.email)
            page.fill("input[name=password]", PASSWORD)
            page.click("main form button[type=submit]")
            page.wait_for_url(live_server.url + "/")

            page.goto(live_server.url + reverse("loyalty:rewards"))
            assert "You are a Bronze member" in page.content()
            assert "Because this is your 1st order" in page.content()
            screenshot(page, f"loyalty-rewards-{width}")
            problems[f"rewards@{width}"] = serious(axe, page)

            page.goto(live_server.url + product.get_absolute_url())
            page.get_by_role("button", name="Add to cart").click()
            page.wait_for_url(live_server.url + reverse("shop:cart"))
            page.fill("#discount-code", "nope")
            page.get_by_role("button", name="Apply").click()
            assert "There is no code NOPE" in page.text_content("#discount-code-error")
            problems[f"cart-error@{width}"] = serious(axe, page)
            page.fill("#discount-code", "spring15")
            page.get_by_role("button", name="Apply").click()
            page.wait_for_selector(".discount-row")
            assert "−€3.15" in page.text_content(".discount-row")  # 15% of 20.99
            screenshot(page, f"loyalty-cart-{width}")
            problems[f"cart@{width}"] = serious(axe, page)

            page.goto(live_server.url + reverse("shop:checkout"))
            page.fill("#id_full_name", "Ana Novak")
            page.fill("#id_line1", "1 Market Street")
            page.fill("#id_postcode", "10115")
            page.fill("#id_city", "Berlin")
            page.check("input[name=shipping_method]")
            page.fill("#id_card_number", "4242 4242 4242 4242")
            page.fill("#id_card_expiry", "12/35")
            page.fill("#id_card_cvc", "123")
            Product.objects.filter(pk=product.pk).update(price=Decimal("24.99"))  # staff edit
            page.get_by_role("button", name="Pay and place order").click()
            page.wait_for_selector(".quote-changes")
            assert "changed from €20.99 to €24.99" in page.text_content(".quote-changes")
            assert page.input_value("#id_card_number") == ""  # never echoed
            screenshot(page, f"loyalty-checkout-changed-{width}")
            problems[f"checkout@{width}"] = serious(axe, page)
            assert Order.objects.filter(user=shopper).count() == (1 if width == 1366 else 2)
            page.fill("#id_card_number", "4242 4242 4242 4242")
            page.fill("#id_card_expiry", "12/35")
            page.fill("#id_card_cvc", "123")
            page.get_by_role("button", name="Confirm the new total and pay").click()
            page.wait_for_selector(".confirmation")
            order = Order.objects.filter(user=shopper).order_by("-pk").first()
            assert order.discount_total == Decimal("3.75")  # 15% of 24.99 = 3.7485
            assert "SPRING15" in page.content()
            screenshot(page, f"loyalty-confirmation-{width}")
            problems[f"confirmation@{width}"] = serious(axe, page)
            Product.objects.filter(pk=product.pk).update(price=Decimal("20.99"))
            page.close()
    assert {k: v for k, v in problems.items() if v} == {}


def test_my_rewards_reads_well_at_phone_and_desktop_widths(live_server, client):
    """Tier, progress, and coupons in every state with their conditions, expiry and why, at
    390 px and 1280 px: nothing wider than the screen, no serious axe finding (screenshots
    loyalty-rewards-full-<width>.png in test-artifacts/)."""
    from datetime import timedelta

    from axe_playwright_python.sync_playwright import Axe
    from django.conf import settings
    from django.utils import timezone

    from personalization.loyalty.services import coupon_revoke
    from tests.factories import CategoryFactory, ShippingMethodFactory

    shipping = ShippingMethodFactory(free_over=Decimal("200.00"))
    TierFactory(name="Bronze", slug="bronze", position=1, min_spend=0, min_orders=0)
    TierFactory(
        name="Silver",
        position=2,
        min_spend=Decimal("100"),
        min_orders=2,
        benefits="Free standard shipping codes and early access to sales.",
    )
    gold = TierFactory(name="Gold", slug="gold", position=3, min_spend=Decimal("750"))
    EarnRuleFactory(
        trigger="nth_order",
        threshold=1,
        benefit_type="fixed",
        benefit_value=Decimal("5"),
        min_subtotal=Decimal("30"),
    )
    shopper = UserFactory(username="rewarded")
    buy(user=shopper, shipping=shipping, price="53.10", placed_at=timezone.now() - timedelta(40))
    coupons_issue_earned()
    now = timezone.now()
    kitchen = CategoryFactory(name="Kitchen & Dining", slug="kitchen")
    single = {"owner": shopper, "kind": "single", "max_uses": 1}
    make_coupon(
        code="SORRY-LATE-PARCEL-2026",
        reason="Sorry your parcel from our Berlin warehouse arrived four days late",
        benefit_type="fixed",
        benefit_value=Decimal("7.50"),
        combinable=True,
        conditions=[
            {"type": "categories", "ids": [kitchen.pk], "names": [kitchen.name]},
            {"type": "tier", "slug": gold.slug},
            {"type": "min_subtotal", "amount": "40"},
        ],
        **single,
    )
    make_coupon(code="SHIPFREE", benefit_type="free_shipping", valid_until=None, **single)
    used = make_coupon(code="USEDONE", **single)
    Coupon.objects.filter(pk=used.pk).update(uses=1)
    make_coupon(code="OLDNEWS", valid_from=now - timedelta(60), valid_until=now - timedelta(2))
    withdrawn = make_coupon(code="TAKENBACK", **single)
    coupon_revoke(coupon_id=withdrawn.pk, reason="no longer earned after order 1042 was refunded")
    make_coupon(code="SOON", valid_from=now + timedelta(3), valid_until=now + timedelta(30))
    Coupon.objects.filter(code__in=["OLDNEWS", "SOON"]).update(owner=shopper, kind="single")
    client.force_login(shopper)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value

    axe = Axe()
    problems, overflow = {}, {}
    with browser() as chromium:
        for width in (390, 1280):
            context = chromium.new_context(viewport={"width": width, "height": 900})
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
            )
            page = context.new_page()
            page.goto(live_server.url + reverse("loyalty:rewards"))
            text = page.text_content("main")
            assert "You are a Bronze member" in text
            assert "€42.00 more and 1 more order" in " ".join(text.split())
            assert "€7.50 off, on Kitchen & Dining products, for Gold members and above" in text
            assert "Because this is your 1st order" in text
            assert "Withdrawn: no longer earned after order 1042 was refunded" in text
            assert "Expired on " in text and "Valid from " in text
            page.click("summary")  # open "How tiers work"
            overflow[width] = page.evaluate(
                "[...document.querySelectorAll('main *')].filter("
                "e => e.getBoundingClientRect().right > window.innerWidth + 1)"
                ".map(e => e.tagName + '.' + e.className)"
            )
            screenshot(page, f"loyalty-rewards-full-{width}")
            problems[width] = serious(axe, page)
            context.close()
    assert overflow == {390: [], 1280: []}
    assert problems == {390: [], 1280: []}
