"""Playwright with Debian's Chromium (never a downloaded browser): the one way tests open one.

``browser()`` skips when Chromium is missing on a developer's machine and fails under CI (``CI``
set), so a browser test can never pass in CI by not running.
"""

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def require_chromium():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {CHROMIUM}: .ci/run must install it")
        pytest.skip(f"needs Chromium at {CHROMIUM}: apt-get install -y chromium")


@contextmanager
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield instance
        finally:
            instance.close()
            # Under sync_playwright the test runs in a greenlet with its own context variables,
            # so Django may have opened a connection there that pytest-django never closes;
            # without this the test database cannot be dropped ("accessed by other users").
            from django.db import connections

            connections.close_all()


def serious_axe_violations(axe, page) -> list[str]:
    """axe's serious and critical violations on ``page`` (an ``axe_playwright_python`` Axe), as
    ``"rule: help (n nodes)"`` lines; the suite's bar for every page is an empty list."""
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in axe.run(page).response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def signed_in_page(chromium, live_server, user, width, height):
    """A page of a browser signed in as ``user`` (a session made by the test client) with a
    ``width`` x ``height`` viewport."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    context = chromium.new_context(viewport={"width": width, "height": height})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context.new_page()
