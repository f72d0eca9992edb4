"""Account → API tokens in Chromium: create a token (shown once), use it, revoke it; the page
passes axe on a phone and a desktop."""

import pytest
import requests

from tests.browser import ARTIFACTS, browser, screenshot
from tests.factories import PASSWORD, UserFactory


def viewport_shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_shopper_creates_uses_and_revokes_a_token(live_server):
    from axe_playwright_python.sync_playwright import Axe

    user = UserFactory(username="tokenista")
    base = live_server.url
    with browser() as chromium:
        for width, height in [(1366, 900), (390, 844)]:
            page = chromium.new_page(viewport={"width": width, "height": height})
            page.goto(base + "/accounts/login/")
            page.fill("input[name=login]", user.email)
            page.fill("input[name=password]", PASSWORD)
            page.click("main form button[type=submit]")
            page.wait_for_url(base + "/")
            page.goto(base + "/account/api-tokens/")
            page.fill("#token-name", f"sync {width}")
            page.get_by_label("Write", exact=False).check()
            page.get_by_role("button", name="Create token").click()
            raw = page.input_value("[data-token]")
            assert raw.startswith("agp_")
            screenshot(page, f"api-tokens-{width}")
            serious = [
                v["id"]
                for v in Axe().run(page).response["violations"]
                if v["impact"] in {"serious", "critical"}
            ]
            assert serious == []

            me = requests.get(
                base + "/api/v1/me/", headers={"Authorization": f"Bearer {raw}"}, timeout=10
            )
            assert me.status_code == 200 and me.json()["username"] == "tokenista"

            page.goto(base + "/account/api-tokens/")
            assert raw not in page.content()  # shown once only
            page.locator("tr", has_text=f"sync {width}").get_by_role(
                "button", name="Revoke"
            ).click()
            page.wait_for_selector("text=no longer works")
            after = requests.get(
                base + "/api/v1/me/", headers={"Authorization": f"Bearer {raw}"}, timeout=10
            )
            assert after.status_code == 401
            page.close()


def test_swagger_ui_and_redoc_render_from_the_stores_own_files(live_server):
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1366, "height": 900})
        outside, blocked = [], []
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
        )
        page.on(
            "requestfailed",
            lambda r: blocked.append(r.url) if (r.failure or "").lower() == "csp" else None,
        )
        page.goto(live_server.url + "/api/docs/")
        page.wait_for_selector(".opblock", timeout=30000)
        assert page.locator(".opblock").count() >= 50
        viewport_shot(page, "api-swagger")  # these pages are too long for a full-page shot
        page.goto(live_server.url + "/api/redoc/")
        page.wait_for_selector("text=Agora API", timeout=30000)
        viewport_shot(page, "api-redoc")
        page.wait_for_timeout(1000)
        # Redoc's bundle links its logo on cdn.redoc.ly; the page's CSP stops the browser
        # from fetching it, so nothing leaves the store.
        sent = [u for u in outside if u.startswith(("http:", "https:")) and u not in blocked]
        assert sent == []
