"""The signed-in header stays compact: the account links live in a native ``<details>`` menu
("Account"), so at 390 px the header is the logo, the menu and the cart on one line and the
search on the next (before: the nine or ten account links wrapped onto three lines). The menu
works with the keyboard (Enter opens it, Tab walks its links, Escape closes it and gives the
focus back) and axe finds no serious or critical violation with it open or closed."""

import pytest
from django.urls import reverse

from tests.browser import browser, screenshot, serious_axe_violations, signed_in_page
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Lines the header's row takes (items whose tops differ by less than 8 px share a line), the
# account nav's height, the menu panel's box and whether each account link is shown.
HEADER = """() => {
  const row = document.querySelector(".header-row");
  const tops = [];
  for (const el of row.children) {
    const top = el.getBoundingClientRect().top;
    if (!tops.some((t) => Math.abs(t - top) < 8)) tops.push(top);
  }
  const nav = document.querySelector(".account-nav").getBoundingClientRect();
  const panel = document.querySelector(".account-menu-links");
  const box = panel && panel.checkVisibility() ? panel.getBoundingClientRect() : null;
  return {
    lines: tops.length,
    navHeight: nav.height,
    panel: box && {left: box.left, right: box.right, bottom: box.bottom},
    shown: [...document.querySelectorAll(".account-menu-links a, .account-menu-links button")]
      .filter((el) => el.checkVisibility()).map((el) => el.textContent.trim()),
  };
}"""

LINKS = {"My orders", "Privacy & sharing", "My likes", "Profile", "Your interests", "Your data"}
LINKS |= {"Email preferences", "Rewards", "API tokens", "Admin", "Sign out"}


def _tab_to(page, selector: str, limit: int = 12) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.parametrize("width,height", [(390, 844), (1280, 800)], ids=["phone", "desktop"])
def test_the_signed_in_header_is_compact_and_its_menu_works_by_keyboard(live_server, width, height):
    from axe_playwright_python.sync_playwright import Axe

    staff = UserFactory(username="menu-staff", first_name="Ines", is_staff=True)
    axe = Axe()
    with browser() as chromium:
        page = signed_in_page(chromium, live_server, staff, width, height)
        page.goto(live_server.url + "/")
        screenshot(page, f"header-closed-{width}")
        closed = page.evaluate(HEADER)
        assert closed["shown"] == [], "the menu starts closed"
        assert closed["lines"] <= 2, closed  # logo, menu and cart; the search
        assert closed["navHeight"] < 56, closed  # one line, however many account links
        assert serious_axe_violations(axe, page) == []

        # Keyboard: Tab to the menu, Enter opens it, Tab walks into it, Escape closes it.
        _tab_to(page, ".account-menu > summary")
        page.keyboard.press("Enter")
        opened = page.evaluate(HEADER)
        assert set(opened["shown"]) == LINKS, opened
        assert opened["panel"]["left"] >= 0 and opened["panel"]["right"] <= width, opened
        assert opened["panel"]["bottom"] <= height, "every link reachable without scrolling"
        summary = page.locator(".account-menu > summary")
        screenshot(page, f"header-open-{width}")
        assert serious_axe_violations(axe, page) == []
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "My orders"
        page.keyboard.press("Escape")
        assert page.evaluate(HEADER)["shown"] == [], "Escape closes the menu"
        assert page.evaluate("document.activeElement.matches('.account-menu > summary')")

        # A click outside closes it too; a link in it goes where it says.
        summary.click()
        page.mouse.click(width // 2, height - 20)
        assert page.evaluate(HEADER)["shown"] == []
        summary.click()
        page.get_by_role("link", name="Rewards").click()
        page.wait_for_url("**" + reverse("loyalty:rewards"))
        page.context.close()

        # A visitor: Sign in, Create account and the cart, on one line with the logo.
        page = chromium.new_page(viewport={"width": width, "height": height})
        page.goto(live_server.url + "/")
        assert page.get_by_role("link", name="Sign in").is_visible()
        assert page.get_by_role("link", name="Create account").is_visible()
        assert page.locator(".account-menu").count() == 0
        screenshot(page, f"header-visitor-{width}")
        assert page.evaluate(HEADER)["lines"] <= 2
        page.close()
