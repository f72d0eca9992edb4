"""The privacy pages in Chromium: no serious axe violations and usable at phone and desktop
widths (screenshots in test-artifacts/)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from privacy import registry
from privacy.registry import Decision
from tests.browser import browser, screenshot, serious_axe_violations
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_privacy_pages_pass_axe_at_phone_and_desktop_width(live_server):
    from axe_playwright_python.sync_playwright import Axe

    user = UserFactory(username="nora", email="nora@example.test", first_name="Nora")

    def decisions(shopper, *, limit):
        return [
            Decision(
                "Banners",
                "Showed you the banner “Clear skies sale”",
                "You are in the segment “Star gazers” (rule: liked 3+ telescopes)",
                timezone.now(),
            )
        ]

    registry.register_decisions("Banners (browser test)", decisions)
    axe = Axe()
    problems = {}
    try:
        with browser() as chromium:
            for width, height in [(1366, 900), (390, 844)]:
                page = chromium.new_page(viewport={"width": width, "height": height})
                page.goto(live_server.url + reverse("account_login"))
                page.fill("input[name=login]", user.email)
                page.fill("input[name=password]", PASSWORD)
                page.locator("form button[type=submit]").last.click()
                page.wait_for_load_state()
                page.goto(live_server.url + reverse("privacy:overview"))
                page.get_by_role("button", name="Download my data").click()
                page.wait_for_load_state()
                assert "preparing your data" in page.content()
                for name in ("overview", "delete", "decisions", "how_we_use"):
                    page.goto(live_server.url + reverse(f"privacy:{name}"))
                    serious = serious_axe_violations(axe, page)
                    if serious:
                        problems[f"{name} @{width}"] = serious
                    # nothing wider than the screen at phone width
                    overflow = page.evaluate(
                        "document.documentElement.scrollWidth - window.innerWidth"
                    )
                    assert overflow <= 0, (name, width, overflow)
                    screenshot(page, f"privacy-{name}-{width}")
                # a wrong password shows the error and keeps the account
                page.goto(live_server.url + reverse("privacy:delete"))
                page.fill("input[name=password]", "not-my-password")
                page.check("input[name=confirm]")
                page.get_by_role("button", name="Delete my account").click()
                assert "That is not your password." in page.content()
                results = axe.run(page)
                if any(
                    v["impact"] in {"serious", "critical"} for v in results.response["violations"]
                ):
                    problems[f"delete-error @{width}"] = results.response["violations"]
                screenshot(page, f"privacy-delete-error-{width}")
                page.close()
    finally:
        registry.unregister_decisions("Banners (browser test)")
    assert problems == {}
    user.refresh_from_db()
    assert user.is_active
