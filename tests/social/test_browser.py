"""End to end in headless Chromium: the live store, Friendbook as a subprocess, a real browser."""

import pytest
from django.contrib.auth import get_user_model

from social import consent
from social.models import ConsentRecord, SocialProfile
from social.selectors import granted_categories
from tests.browser import browser

from .conftest import CALLBACK
from .friendbook import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server, friendbook, store_uses):
    store_uses(friendbook.url)
    friendbook.allow_redirects([f"http://testserver{CALLBACK}", f"{live_server.url}{CALLBACK}"])
    with browser() as chromium:  # tests/browser.py: fails under CI without Chromium
        context = chromium.new_context(viewport={"width": 1366, "height": 900})
        context.set_default_timeout(15_000)
        yield context.new_page()


def open_permission_screen(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Continue with Friendbook").click()
    page.wait_for_url("**/account/social/friendbook/permissions/")


def friendbook_login(page, email):
    page.wait_for_url("**/accounts/login/**")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/identity/o/authorize**")


def test_permission_screen_friendbook_consent_and_revoke(page, live_server):
    # Denial on the store's own screen: nothing leaves the store.
    open_permission_screen(page, live_server)
    for code in consent.OPTIONAL:
        assert not page.locator(f"input[name={code}]").is_checked()
    assert page.locator("#id_basic").is_checked() and page.locator("#id_basic").is_disabled()
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url("**/accounts/login/")
    assert "Nothing was shared" in page.inner_text(".messages")

    # Denial on Friendbook's consent screen.
    open_permission_screen(page, live_server)
    page.check("input[name=gender]")
    page.get_by_role("button", name="Continue to Friendbook").click()
    friendbook_login(page, "ana@friendbook.test")
    assert page.locator("input[name=scopes][value=gender]").is_checked()
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert "You cancelled at Friendbook" in page.inner_text(".messages")
    assert page.get_by_role("button", name="Sign out").count() == 0

    # Grant: age and interests only; Friendbook asks for exactly those.
    open_permission_screen(page, live_server)
    page.check("input[name=age]")
    page.check("input[name=interests]")
    page.get_by_role("button", name="Continue to Friendbook").click()
    page.wait_for_url("**/identity/o/authorize**")
    offered = page.locator("input[name=scopes]").evaluate_all("els => els.map(e => e.value)")
    assert set(offered) == {"openid", "profile", "email", "birthday", "interests"}
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{live_server.url}/")
    page.locator(".account-menu > summary").click()  # the account links are in its menu
    assert page.get_by_role("button", name="Sign out").count() == 1

    user = get_user_model().objects.get(email="ana@friendbook.test")
    assert granted_categories(user) == {consent.BASIC, consent.AGE, consent.INTERESTS}
    profile = SocialProfile.objects.get(user=user)
    assert profile.age_band and profile.interests and not profile.gender

    # Privacy & sharing: revoke interests; the data goes at once.
    page.get_by_role("link", name="Privacy & sharing").click()
    item = page.locator("[data-category=interests]")
    assert item.get_attribute("data-shared") == "yes"
    assert "Running" in item.inner_text()
    item.get_by_role("button", name="Stop sharing").click()
    page.wait_for_url("**/account/privacy/")
    assert page.locator("[data-category=interests]").get_attribute("data-shared") == "no"
    assert "Revoked" in page.inner_text(".consent-history")
    profile.refresh_from_db()
    assert profile.interests == [] and profile.age_band
    assert granted_categories(user) == {consent.BASIC, consent.AGE}
    assert ConsentRecord.objects.filter(user=user, action="revoked").count() == 1
