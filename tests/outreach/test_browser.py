"""The shopper's email pages in Chromium at phone and desktop widths: axe finds no serious
problem, and the unsubscribe button on the confirmation page really unsubscribes."""

import pytest

from personalization.outreach import links
from personalization.outreach.models import Campaign, OutreachMessage, Subscriber
from tests.browser import browser, screenshot
from tests.factories import PASSWORD

from .conftest import opted_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_email_pages_are_accessible_and_the_button_unsubscribes(live_server):
    from axe_playwright_python.sync_playwright import Axe

    (user,) = opted_in(1)
    c = Campaign.objects.create(
        name="C", subject_template="s", html_template="h", text_template="t"
    )
    message = OutreachMessage.objects.create(
        campaign=c, user=user, email=user.email, message_id="<m1@agora.test>", status="sent"
    )
    unsubscribe = links.unsubscribe_url(message.pk).replace("http://127.0.0.1:8000", "")
    preferences = links.preferences_url(message.pk).replace("http://127.0.0.1:8000", "")
    axe = Axe()
    problems = {}
    with browser() as chromium:
        for width, height in [(1366, 900), (390, 844)]:
            page = chromium.new_page(viewport={"width": width, "height": height})
            for name, path in [("unsubscribe", unsubscribe), ("preferences", preferences)]:
                page.goto(live_server.url + path)
                screenshot(page, f"outreach-{name}-{width}")
                serious = [
                    f"{v['id']}: {v['help']}"
                    for v in axe.run(page).response["violations"]
                    if v["impact"] in {"serious", "critical"}
                ]
                if serious:
                    problems[f"{name} @{width}"] = serious
            page.close()
        page = chromium.new_page(viewport={"width": 390, "height": 844})
        page.goto(live_server.url + "/accounts/login/")
        page.fill("input[name=login]", user.email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.goto(live_server.url + "/account/email/")
        screenshot(page, "outreach-account-preferences-390")
        assert page.get_by_text("Your consent history").is_visible()
        page.goto(live_server.url + unsubscribe)
        assert Subscriber.objects.get(user=user).marketing_opt_in  # the GET changed nothing
        page.get_by_role("button", name="Unsubscribe").click()
        page.get_by_text("You are unsubscribed").wait_for()
        screenshot(page, "outreach-unsubscribed-390")
    assert problems == {}
    assert not Subscriber.objects.get(user=user).marketing_opt_in
