"""The like button and share bar in headless Chromium: in place with htmx, copy link, sign-in."""

import pytest
from django.contrib.auth import get_user_model

from social.engagement.models import Like, ShareLink
from tests.browser import browser as chromium
from tests.factories import PASSWORD, ProductFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser():
    with chromium() as instance:  # fails under CI when Chromium is missing, skips elsewhere
        yield instance


def sign_in(page, base, user):
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(base + "/")


def test_like_updates_in_place_and_copy_link_copies_a_tracked_link(live_server, browser, settings):
    settings.ENGAGEMENT_SOCIAL_PROOF_MIN_LIKES = 1
    settings.SITE_URL = live_server.url
    shopper, product = UserFactory(), ProductFactory(name="Trail Runner")
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    sign_in(page, live_server.url, shopper)
    page.goto(live_server.url + product.get_absolute_url())
    page.evaluate("window.__notReloaded = true")

    page.click(".product-social .like-button")
    page.wait_for_selector('.product-social .like-button[aria-pressed="true"]')
    assert page.text_content(".product-social .like-count").startswith("1")
    assert page.evaluate("window.__notReloaded") is True  # swapped by htmx, no reload
    assert Like.objects.filter(user=shopper, object_id=product.pk).count() == 1

    page.click(".product-social .like-button")
    page.wait_for_selector('.product-social .like-button[aria-pressed="false"]')
    assert Like.objects.filter(user=shopper).count() == 0

    page.click("button.share-copy")
    page.wait_for_selector(".share-status:has-text('Link copied')")
    copied = page.evaluate("navigator.clipboard.readText()")
    link = ShareLink.objects.get(sharer=shopper, channel="copy")
    assert copied == f"{live_server.url}/r/{link.code}/"
    context.close()


def test_anonymous_like_signs_in_returns_to_the_page_and_is_applied(live_server, browser):
    shopper, product = UserFactory(), ProductFactory()
    page = browser.new_page()
    page.goto(live_server.url + product.get_absolute_url())
    page.click(".product-social .like-button")
    page.wait_for_url("**/accounts/login/**")
    page.fill("input[name=login]", shopper.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(live_server.url + product.get_absolute_url())
    assert get_user_model().objects.filter(pk=shopper.pk).exists()
    # The like they clicked was applied: the page shows it liked, with a confirmation.
    page.wait_for_selector('.product-social .like-button[aria-pressed="true"]')
    assert "It is in your likes." in page.text_content("body")
    assert Like.objects.filter(user=shopper, object_id=product.pk).count() == 1
