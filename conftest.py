"""Shared test set-up: real services when DATABASE_URL / REDIS_URL point at them."""

import os
import uuid

import pytest
from django.conf import settings


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://...")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(skip_redis)


TEST_CACHE_PREFIX = f"agora-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session", autouse=True)
def _own_cache_keys():
    """The tests' cache keys (and cache sessions) live under a prefix of this run's own, also in
    the Celery workers tests start (they inherit CACHE_KEY_PREFIX), so clearing them never
    touches a developer's cache, sessions or broker queues in the same Redis database."""
    from django.test import override_settings

    caches = {name: {**conf} for name, conf in settings.CACHES.items()}
    for conf in caches.values():
        conf["KEY_PREFIX"] = TEST_CACHE_PREFIX
    os.environ["CACHE_KEY_PREFIX"] = TEST_CACHE_PREFIX
    # Forgets take no lease (config.cache.cache_forget), so that a test can warm a cache right
    # after it sets data up; tests/test_cache_lease.py turns leases on for itself.
    os.environ["AGORA_CACHE_LEASE_SECONDS"] = "0"
    with override_settings(CACHES=caches, AGORA_CACHE_LEASE_SECONDS=0):
        yield


def clear_test_cache():
    """Delete this run's cache keys only: never ``FLUSHDB`` (Django's RedisCache.clear())."""
    from django.core.cache import cache

    if not settings.REDIS_URL:
        cache.clear()  # LocMemCache: private to this process
        return
    prefix = cache.key_prefix
    assert prefix == TEST_CACHE_PREFIX, "tests must not clear a cache prefix that is not theirs"
    client = cache._cache.get_client(write=True)
    batch = []
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        batch.append(key)
        if len(batch) >= 500:
            client.delete(*batch)
            batch = []
    if batch:
        client.delete(*batch)


@pytest.fixture(autouse=True)
def _eager_celery_and_clean_cache(settings):
    """Tasks run in-process unless a test starts a real worker (see tests/test_celery_worker.py)."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests
    # Views and searches are inserted at once, so tests see them; the Redis stream that
    # production uses is tested on its own (tests/personalization/test_event_stream.py).
    settings.AGORA_EVENT_STREAM = False
    # Store pages are rendered on every request, so tests see each response's context and
    # queries; the whole-page cache is tested on its own (tests/shop/test_page_cache.py).
    settings.AGORA_PAGE_CACHE = os.environ.get("AGORA_TEST_PAGE_CACHE") == "1"
    settings.AGORA_SIGNED_PAGE_CACHE = settings.AGORA_PAGE_CACHE  # tests/shop/test_signed_cache.py
    clear_test_cache()
    yield
    clear_test_cache()


@pytest.fixture(scope="session", autouse=True)
def _media_root(tmp_path_factory):
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        yield


os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
