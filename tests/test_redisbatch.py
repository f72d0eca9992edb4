"""config.redisbatch: a request's small Redis writes in one pipeline, each with its fallback."""

import pytest
from django.core.cache import caches
from django.test import override_settings

from config.cache import raw_redis
from config.redisbatch import batched, queue
from tests.redisdown import dead_redis_caches

pytestmark = pytest.mark.redis


def test_queued_writes_are_sent_together_at_the_end_of_the_block():
    client = raw_redis()
    assert client is not None, "these tests need the Redis cache"
    key = caches["default"].make_key("test:redisbatch")
    client.delete(key)
    fallbacks = []
    with batched():
        assert queue(lambda pipe: pipe.rpush(key, "a"), lambda: fallbacks.append("a"))
        with batched():  # a nested block joins the outer one
            assert queue(lambda pipe: pipe.rpush(key, "b"), lambda: fallbacks.append("b"))
        assert client.llen(key) == 0, "a queued write was sent before the block ended"
    assert client.lrange(key, 0, -1) == [b"a", b"b"]
    assert fallbacks == []
    assert not queue(lambda pipe: pipe.rpush(key, "c"), lambda: None), "queued outside a block"


def test_a_command_redis_refuses_runs_its_fallback_only():
    client = raw_redis()
    key = caches["default"].make_key("test:redisbatch:string")
    client.set(key, "not a list")
    listed = caches["default"].make_key("test:redisbatch:list")
    client.delete(listed)
    fallbacks = []
    with batched():
        queue(lambda pipe: pipe.rpush(key, "x"), lambda: fallbacks.append("refused"))
        queue(lambda pipe: pipe.rpush(listed, "y"), lambda: fallbacks.append("sent"))
    assert fallbacks == ["refused"]
    assert client.lrange(listed, 0, -1) == [b"y"]


def test_redis_down_runs_every_fallback(settings):
    dead = dead_redis_caches(settings.CACHES)
    fallbacks = []
    with override_settings(CACHES=dead), batched():
        queue(lambda pipe: pipe.rpush("k", "a"), lambda: fallbacks.append("a"))
        queue(lambda pipe: pipe.xadd("s", {"e": "1"}), lambda: fallbacks.append("b"))
    assert fallbacks == ["a", "b"]
