"""The suite itself: it clears only its own cache keys and opens browsers one way (issue 17)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from conftest import TEST_CACHE_PREFIX, clear_test_cache

TESTS = Path(__file__).resolve().parent.parent


def test_the_tests_cache_uses_a_prefix_of_their_own():
    assert cache.key_prefix == TEST_CACHE_PREFIX
    assert settings.CACHES["default"]["KEY_PREFIX"] == TEST_CACHE_PREFIX
    cache.set("probe", 1)
    assert cache.make_key("probe").startswith(TEST_CACHE_PREFIX + ":")


@pytest.mark.redis
def test_clearing_the_test_cache_leaves_other_keys_in_the_redis_database():
    client = cache._cache.get_client(write=True)
    foreign = ["agora:1:someone-elses-page", "_kombu.binding.celery", "celery"]
    for key in foreign:
        client.set(key + ":isolation-probe", b"keep")
    try:
        cache.set("mine", "gone soon")
        assert cache.get("mine") == "gone soon"
        clear_test_cache()
        assert cache.get("mine") is None
        for key in foreign:
            assert client.get(key + ":isolation-probe") == b"keep"
    finally:
        client.delete(*[key + ":isolation-probe" for key in foreign])


def test_no_test_flushes_a_cache_or_redis_database_itself():
    offenders = []
    for path in TESTS.rglob("*.py"):
        text = path.read_text()
        if re.search(r"\b(flushdb|flushall|cache\.clear\(\))", text, re.I):
            offenders.append(str(path.relative_to(TESTS)))
    offenders.remove("suite/test_test_isolation.py")
    assert offenders == []


def test_browser_tests_open_chromium_only_through_tests_browser():
    """tests/browser.py fails under CI when Chromium is missing; a module launching its own
    browser could skip silently or hard-code a path."""
    offenders = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if path.name != "browser.py"
        and re.search(r"sync_playwright\(\)|executable_path|/usr/bin/chromium", path.read_text())
    ]
    offenders.remove("suite/test_test_isolation.py")
    assert offenders == []
