"""The account's tables on a phone: a newcomer found the consent history on "Privacy & sharing"
scrolling sideways at 390 px. Every account table stacks its rows as cards on a phone (no
sideways scrolling) and stays a table on a desktop, with no serious axe violation either way
(screenshots in test-artifacts/)."""

import pytest
from django.urls import reverse

from api import services as api_services
from personalization.outreach import services as outreach
from social import services as social_services
from tests.browser import browser, screenshot, serious_axe_violations, signed_in_page
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "social:privacy",
    "outreach:preferences",
    "api:tokens",
    "privacy:how_we_use",
]

#: each table, the box it sits in and the page: how much wider than the room they have
MEASURE = """() => {
  const room = document.documentElement.clientWidth;
  const tables = [...document.querySelectorAll('main table, table')].map(t => {
    const box = t.parentElement;
    return {
      table: t.className,
      sideways: Math.max(t.scrollWidth - box.clientWidth, box.scrollWidth - box.clientWidth),
      wider: Math.round(t.getBoundingClientRect().right - room),
    };
  });
  return {page: document.documentElement.scrollWidth - room, tables};
}"""


def test_account_tables_never_scroll_sideways_on_a_phone(live_server):
    from axe_playwright_python.sync_playwright import Axe

    user = UserFactory(username="nora", email="nora@example.test", first_name="Nora")
    social_services.consent_apply_sign_in(
        user=user,
        provider="friendbook",
        granted={"age", "interests", "relationship"},
        profile={"age_band": "25-34", "interests": ["hiking"], "relationship": "single"},
    )
    outreach.marketing_consent_set(user=user, opted_in=True, source="account")
    outreach.marketing_consent_set(user=user, opted_in=False, source="one_click")
    api_services.token_create(user=user, name="My home automation script", scopes=["read"])
    axe = Axe()
    problems = {}
    with browser() as chromium:
        for width, height in [(390, 844), (1366, 900)]:
            page = signed_in_page(chromium, live_server, user, width, height)
            for name in PAGES:
                page.goto(live_server.url + reverse(name))
                measured = page.evaluate(MEASURE)
                assert measured["tables"], f"{name} shows its table"
                wide = [t for t in measured["tables"] if t["sideways"] > 1 or t["wider"] > 0]
                if wide or measured["page"] > 0:
                    problems[f"{name} @{width}"] = measured
                serious = serious_axe_violations(axe, page)
                if serious:
                    problems[f"{name} @{width} axe"] = serious
                screenshot(page, f"account-table-{name.replace(':', '-')}-{width}")
            page.context.close()
    assert problems == {}
