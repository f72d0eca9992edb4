"""The CRM admin pages in Chromium at desktop and phone widths: no serious axe violations,
no horizontal scrolling of the page, screenshots in test-artifacts/."""

import pytest
from django.urls import reverse

from tests.browser import browser, screenshot, serious_axe_violations
from tests.crm.helpers import customer_with_everything, staff
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_crm_pages_pass_axe_at_desktop_and_phone_widths(live_server):
    from axe_playwright_python.sync_playwright import Axe

    helper = staff(username="crm-admin")
    customer = customer_with_everything(helper=helper)
    UserFactory(email="ana.novak+old@example.test", first_name="Ana")  # a duplicate
    pages = {
        "360": reverse("admin:crm_customer_change", args=[customer.pk]),
        "list": reverse("admin:crm_customer_changelist"),
        "dashboard": reverse("admin:crm_dashboard"),
        "influential": reverse("admin:crm_influential"),
        "duplicates": reverse("admin:crm_duplicates"),
        "tasks": reverse("admin:crm_task_changelist") + "?mine=1&open=1",
    }
    axe = Axe()
    problems, overflow = {}, {}
    with browser() as chromium:
        for width, height in [(1366, 900), (390, 844)]:
            page = chromium.new_page(viewport={"width": width, "height": height})
            page.goto(live_server.url + reverse("admin:login"))
            page.fill("input[name=username]", helper.username)
            page.fill("input[name=password]", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url(live_server.url + reverse("admin:index"))
            for name, path in pages.items():
                page.goto(live_server.url + path)
                assert page.locator("#content").count() == 1, name
                screenshot(page, f"crm-{name}-{width}")
                serious = serious_axe_violations(axe, page)
                if serious:
                    problems[f"{name} @{width}"] = serious
                wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
                if wide and name in {"360", "dashboard"}:
                    overflow[f"{name} @{width}"] = page.evaluate(
                        "document.documentElement.scrollWidth"
                    )
            page.close()
    assert problems == {}
    assert overflow == {}
