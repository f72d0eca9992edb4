"""Forgets hold a lease: a read-through fill computed before a forget never lands after it.

The race (``config.cache``): a reader reads the rows, a writer commits and forgets the cached
value, then the reader writes what it read. Without the lease the old value stays cached for its
whole timeout (an hour for a profile).
"""

import threading
import time

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import TestCase

from config.aftercommit import cache_fill, cache_fill_many, forget_keys
from config.cache import cache_forget, cache_set_unless_leased
from conftest import clear_test_cache


@pytest.fixture
def short_lease(settings):
    settings.AGORA_CACHE_LEASE_SECONDS = 0.3
    clear_test_cache()
    yield 0.3
    clear_test_cache()


@pytest.mark.django_db
def test_a_fill_after_a_forget_waits_for_the_lease_then_caches_again(short_lease):
    cache.set("lease:t:a", "old", 600)
    cache_forget(["lease:t:a", "lease:t:b"])
    assert cache.get("lease:t:a") is None
    cache_fill("lease:t:a", "read before the forget", 600)
    cache_fill_many({"lease:t:b": 2, "lease:t:c": 3}, 600)
    assert cache.get_many(["lease:t:a", "lease:t:b", "lease:t:c"]) == {"lease:t:c": 3}
    time.sleep(2 * short_lease + 0.1)  # a lease lasts one to two lease lengths
    cache_fill("lease:t:a", "fresh", 600)
    assert cache.get("lease:t:a") == "fresh"


@pytest.mark.django_db
def test_the_lease_does_not_change_what_a_fill_stores_or_for_how_long(short_lease):
    value = {"ids": [1, 2], "n": 7}
    assert cache_set_unless_leased({"lease:t:v": value, "lease:t:i": 12}, 60) == 2
    assert cache.get_many(["lease:t:v", "lease:t:i"]) == {"lease:t:v": value, "lease:t:i": 12}
    assert cache.incr("lease:t:i") == 13  # stored as Django's cache stores an int
    if hasattr(cache, "ttl"):  # pragma: no cover (Django's RedisCache has no ttl)
        assert 0 < cache.ttl("lease:t:v") <= 60
    assert cache_set_unless_leased({"lease:t:zero": 1}, 0) == 0
    assert cache.get("lease:t:zero") is None
    assert cache_set_unless_leased({"lease:t:v": 2}, 60) == 1  # a fill takes no lease


@pytest.mark.django_db
def test_forget_keys_inside_a_transaction_leases_now_and_again_after_the_commit(short_lease):
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks, transaction.atomic():
        forget_keys(["lease:t:tx"])
        cache_set_unless_leased({"lease:t:tx": "filled by another process"}, 600)
        assert cache.get("lease:t:tx") is None
    assert len(callbacks) == 1
    # held again from the commit on: a fill right after it stores nothing either
    assert cache_set_unless_leased({"lease:t:tx": "read before the commit"}, 600) == 0
    assert cache.get("lease:t:tx") is None


@pytest.mark.django_db(transaction=True)
def test_a_profile_read_before_a_build_commits_is_not_cached_after_it(settings):
    """Real threads on PostgreSQL: a page reads the shopper's profile (one event), a profile
    build commits a second event and forgets the cached profile, then the page fills the cache
    with what it read. The next page must see two events, not the old profile for an hour."""
    from personalization import building, events, selectors
    from personalization.models import Event
    from tests.factories import ProductFactory, UserFactory

    settings.AGORA_CACHE_LEASE_SECONDS = 5  # as in production (the suite runs without)
    clear_test_cache()
    shopper, product = UserFactory(), ProductFactory()
    events.record(Event.Kind.VIEW, user=shopper, product=product)
    building.build_full()
    assert selectors.load_profile(user_id=shopper.pk).event_count == 1
    assert cache.get(selectors.CACHE_KEY.format(shopper.pk)) is None

    read, go, seen = threading.Event(), threading.Event(), []
    real_load = selectors.load_profile

    def slow_load(**kwargs):
        profile = real_load(**kwargs)
        read.set()
        assert go.wait(10), "the build did not finish"
        return profile

    def page():
        try:
            seen.append(selectors.profile_for(shopper))
        finally:
            connection.close()

    selectors.load_profile = slow_load
    try:
        reader = threading.Thread(target=page)
        reader.start()
        assert read.wait(10), "the page never read the profile"
        events.record(Event.Kind.VIEW, user=shopper, product=product)
        result = building.build_incremental()  # commits, then forgets the cached profile
        assert shopper.pk in result.changed_user_ids
        assert real_load(user_id=shopper.pk).event_count == 2
        go.set()
        reader.join(10)
    finally:
        selectors.load_profile = real_load
        go.set()
    assert not reader.is_alive()
    assert seen and seen[0].event_count == 1, "the page read the profile before the build"
    assert selectors.profile_for(shopper).event_count == 2
    clear_test_cache()


@pytest.mark.redis
@pytest.mark.django_db
def test_a_picks_fragment_is_not_stored_while_its_forget_holds_the_lease(short_lease):
    from config.cache import cache_hset_unless_leased, raw_redis

    key = "lease:t:hash"
    assert cache_hset_unless_leased(key, "8:", b"<p>picks</p>", 60)
    assert raw_redis().hget(cache.make_key(key), "8:") == b"<p>picks</p>"
    cache_forget([key])
    assert raw_redis().exists(cache.make_key(key)) == 0
    assert not cache_hset_unless_leased(key, "8:", b"<p>read before the forget</p>", 60)
    assert raw_redis().exists(cache.make_key(key)) == 0
    time.sleep(2 * short_lease + 0.1)
    assert cache_hset_unless_leased(key, "8:", b"<p>fresh</p>", 60)
    assert 0 < raw_redis().ttl(cache.make_key(key)) <= 60


@pytest.mark.redis
@pytest.mark.django_db
def test_a_forget_loads_its_script_when_redis_does_not_know_it(short_lease, monkeypatch):
    """The forget sends its Lua script by hash (``EVALSHA``); a Redis that does not know it
    (restarted, flushed) answers NOSCRIPT, and the forget loads the script and sends again. A
    script new to the server (the same one with a unique comment) stands for a flushed one:
    SCRIPT FLUSH would flush every other user's scripts on the shared server too."""
    import hashlib
    from uuid import uuid4

    from config import cache as config_cache
    from config.cache import raw_redis

    script = f"{config_cache._FORGET_WITH_LEASE}-- {uuid4().hex}\n"
    sha = hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 (Redis's own id)
    assert raw_redis().script_exists(sha) == [False]  # precondition: unknown to Redis
    monkeypatch.setattr(config_cache, "_FORGET_WITH_LEASE", script)
    names = [f"lease:t:noscript:{n}" for n in range(3)]
    cache.set_many(dict.fromkeys(names, "old"), 600)

    cache_forget(names)

    assert raw_redis().script_exists(sha) == [True]
    assert cache.get_many(names) == {}
    cache_set_unless_leased(dict.fromkeys(names, "read before the forget"), 600)
    assert cache.get_many(names) == {}  # each forgotten key holds its lease
