"""The Redis cache keeps one redis-py client per connection pool and still fails open."""

import pytest
from django.conf import settings

from config.cache import FailOpenRedisCache

pytestmark = pytest.mark.redis


def make_cache(location):
    return FailOpenRedisCache(
        location,
        {"KEY_PREFIX": "test-cache-client", "OPTIONS": {"socket_connect_timeout": 0.2}},
    )


def test_one_client_per_pool_serves_every_call():
    cache = make_cache(settings.REDIS_URL)
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client, "no new redis.Redis per call"
    cache.set("k", {"a": 1}, 30)
    assert cache.get("k") == {"a": 1} and cache.get_many(["k", "missing"]) == {"k": {"a": 1}}
    cache.delete("k2")
    assert cache.add("k2", 1, 30) and cache.incr("k2") == 2
    cache.delete_many(["k", "k2"])


def test_a_reused_client_still_fails_open_while_redis_is_down():
    cache = make_cache("redis://127.0.0.1:1/0")  # nothing listens there
    for _ in range(2):  # the second call reuses the client of the first
        assert cache.get("k", "miss") == "miss"
        assert cache.get_many(["k"]) == {}
        assert cache.set("k", 1) is None
