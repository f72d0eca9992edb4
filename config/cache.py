"""A Redis cache that fails open: when Redis is down, reads miss and writes are dropped.

Django's ``RedisCache`` raises ``redis.ConnectionError`` from every call while Redis is
unreachable, which turns each page that reads a cached fragment into a 500. The store's cache
holds nothing that cannot be recomputed (fragments, profiles, rate-limit counters; sessions are
written through to the database by ``cached_db``), so a miss is the right answer: the page is
slower, not broken. This is django-redis's ``IGNORE_EXCEPTIONS`` for Django's own backend, which
the project already uses (``personalization.selectors`` and ``banners.services`` reach its
client). Every swallowed failure is logged at WARNING on ``agora.cache``; once Redis answers
again the next call uses it, with no restart.
"""

import functools
import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("agora.cache")

#: The errors that mean "Redis is not there", not "the call was wrong".
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


def _fail_open(default):
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except REDIS_DOWN as exc:
                logger.warning("cache %s failed open (Redis unreachable): %s", method.__name__, exc)
                return default(*args, **kwargs)

        return wrapper

    return decorate


def _default_arg(key, default=None, *args, **kwargs):
    return default


def _delta(key, delta=1, *args, **kwargs):
    return delta


def _const(value):
    return lambda *args, **kwargs: value


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client, keeping one ``redis.Redis`` per connection pool.

    Django's ``get_client`` builds a new ``redis.Redis`` for every cache call, and building one
    fills its response-callback table (about 170 entries): a fifth of a millisecond per call, the
    largest cost of a page served from the cache (issue 15). ``redis.Redis`` is safe to share
    between threads (each command takes a connection from the pool), and a pool notices a fork.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class FailOpenRedisCache(RedisCache):
    """``RedisCache`` whose reads return the miss value and writes do nothing while Redis is down.

    Guarantees while Redis is unreachable: ``get`` returns ``default``, ``get_many`` ``{}``,
    ``set`` ``None``, ``add``/``touch``/``delete``/``has_key`` ``False``, ``set_many`` ``[]``,
    ``get_or_set`` computes the value without storing it, and ``incr``/``decr`` return ``delta``
    as if the counter had just started (only banner frequency caps count this way: during an
    outage a cap restarts, which shows a banner once more, never breaks the page). Other
    errors (a wrong key, an unpicklable value) still raise.
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    get = _fail_open(_default_arg)(RedisCache.get)
    get_many = _fail_open(_const({}))(RedisCache.get_many)
    set = _fail_open(_const(None))(RedisCache.set)
    add = _fail_open(_const(False))(RedisCache.add)
    touch = _fail_open(_const(False))(RedisCache.touch)
    delete = _fail_open(_const(False))(RedisCache.delete)
    delete_many = _fail_open(_const(None))(RedisCache.delete_many)
    set_many = _fail_open(_const([]))(RedisCache.set_many)
    has_key = _fail_open(_const(False))(RedisCache.has_key)
    incr = _fail_open(_delta)(RedisCache.incr)
    decr = _fail_open(_delta)(RedisCache.decr)
