"""A Redis cache that fails open: when Redis is down, reads miss and writes are dropped.

Django's ``RedisCache`` raises ``redis.ConnectionError`` from every call while Redis is
unreachable, which turns each page that reads a cached fragment into a 500. The store's cache
holds nothing that cannot be recomputed (fragments, profiles, rate-limit counters; sessions are
written through to the database by ``cached_db``), so a miss is the right answer: the page is
slower, not broken. This is django-redis's ``IGNORE_EXCEPTIONS`` for Django's own backend, which
the project already uses (``raw_redis`` below hands its client to the code that needs lists
and streams). Every swallowed failure is logged at WARNING on ``agora.cache``; once Redis answers
again the next call uses it, with no restart.
"""

import functools
import logging
import os
import threading
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError, NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("agora.cache")

#: The errors that mean "Redis is not there", not "the call was wrong".
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


def raw_redis(alias: str = "default"):
    """The redis-py client behind the Django cache ``alias``, or None when that cache is not
    Redis (the embedded demo's local-memory cache): for what a cache API cannot say (lists,
    streams, pipelines: banner decisions, the event stream, profile and segment reads).

    Getting it never connects. Its calls are *not* fail-open: they raise ``REDIS_DOWN`` errors
    while Redis is unreachable, and every caller catches them and falls back to what loses
    nothing (write straight to PostgreSQL, read from PostgreSQL, skip a flush or a drain until
    Redis is back). The keys it writes are the caller's to prefix (``caches[alias].make_key``).
    """
    from django.core.cache import caches

    backend = caches[alias]
    if isinstance(backend, RedisCache):
        return backend._cache.get_client(None, write=True)
    return None


try:  # redis-py packs with hiredis when it is installed; OwnConnection calls it directly
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # pragma: no cover (hiredis is in the lock file)
    _hiredis_pack = None

#: How many times this process's line of ancestors forked: an ``OwnConnection`` opened under
#: another count belongs to a parent (``os.getpid()`` is a system call on every hit, this a
#: list read; issue 15).
_forks = [0]


def _forked() -> None:
    _forks[0] += 1


os.register_at_fork(after_in_child=_forked)


def _packed(connection, args) -> list:
    """``args`` in the Redis protocol, as ``connection.send_command`` packs them: by hiredis
    directly for the usual command (a name without a space, then str/bytes/int/float values),
    skipping redis-py's per-argument pass; anything else by the connection's own packer."""
    first = args[0]
    if _hiredis_pack is not None and isinstance(first, str) and " " not in first:
        try:
            return [_hiredis_pack(args)]
        except TypeError:  # a bytearray, memoryview ...: the packer converts or reports it
            pass
    try:
        return connection._command_packer.pack(*args)
    except TypeError as exc:  # pragma: no cover (as redis-py reports it)
        raise DataError(exc) from exc


class OwnConnection:
    """One Redis connection a process keeps for one hot command (the whole-page cache's hit,
    ``shop.pagecache``), beside the client's pool.

    redis-py's ``execute_command`` checks a connection out of the pool (a pid check, a lock,
    a poll for stray data, metrics), wraps the call in its retry policy and applies response
    callbacks: ~25 µs of CPU around a ~10 µs command on a local Redis (issue 15). ``call`` sends
    the command on a connection of its own and returns the server's reply as parsed (bytes,
    ints, lists; an error reply raised as ``redis.ResponseError``, the connection kept). It
    packs the usual command with hiredis directly and tells a forked child by a counter that
    ``os.register_at_fork`` bumps, not by ``os.getpid()`` (a system call per hit).

    Guarantees: the command is sent at most once (no retry: a caller whose call raised must
    assume nothing about the server); a ``REDIS_DOWN`` error drops the connection and the next
    call opens a new one. Fork-safe: a connection opened by another process (the parent) is
    forgotten without touching its socket's peer, and a new one opened. It follows the client:
    a call with another pool (``override_settings(CACHES=...)``) reconnects there. Thread-safe:
    while another thread uses the connection, the call goes through the client's pool.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._connection = None
        self._pool = None
        self._forks = None

    def call(self, client, *args):
        """``client.execute_command(*args)`` on this process's own connection (see the class)."""
        if not self._lock.acquire(blocking=False):
            return client.execute_command(*args)
        try:
            connection = self._connection
            pool = client.connection_pool
            if connection is None or self._pool is not pool or self._forks != _forks[0]:
                connection = self._open(pool)
            # on an error it disconnects itself and raises
            connection.send_packed_command(_packed(connection, args))
            return connection.read_response()  # likewise; an error reply keeps it
        finally:
            self._lock.release()

    def _open(self, pool):
        old = self._connection
        if old is not None:
            old.disconnect()  # redis-py shuts the socket down only in the pid that opened it
        self._connection = pool.connection_class(**pool.connection_kwargs)
        self._pool, self._forks = pool, _forks[0]
        return self._connection

    def close(self) -> None:
        """Drop the connection (the next call opens a new one)."""
        with self._lock:
            if self._connection is not None:
                self._connection.disconnect()
            self._connection = self._pool = self._forks = None


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


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's client, keeping one ``redis.Redis`` per connection pool.

    Django builds a new ``redis.Redis`` for every cache call, and its constructor fills a
    response-callback table of ~170 entries: 0.15-0.18 ms a call, more than the round trip to a
    local Redis (cProfile of a warm banner choice: 0.36 of its 0.49 ms). A ``redis.Redis`` is
    thread-safe and only wraps the pool, so one per pool is enough; the pools are Django's
    (redis-py resets a pool's connections in a forked child).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._client(connection_pool=self._get_connection_pool(write))
            self._clients[index] = client
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
        self._class = ReusingRedisCacheClient  # RedisCache.__init__ sets its own

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


# --- forgets with a lease: a fill computed before a forget never lands after it -------------
#
# A read-through fill reads the database, then writes the cache. A forget that runs between the
# two (the writer's commit came in between) is undone by the fill: the old value is cached for
# its whole timeout. So a forget also leaves a short *lease* beside each key it drops, and a fill
# writes only where no lease is (one Lua call on Redis, atomic against the forget): a reader
# that read the old rows finds the lease and caches nothing; readers after the lease cache
# again. (Leases as in "Scaling Memcache at Facebook", NSDI 2013, section 3.2.1, with the lease
# held by the forget instead of by the reader.) A reader slower than the lease between its read
# and its fill can still store an old value; AGORA_CACHE_LEASE_SECONDS bounds that case.

LEASE_PREFIX = "lease:"

# Leases on Redis: one set of key names per time bucket of the lease's length (Redis's own
# clock, so web and worker hosts agree), ``<prefix>lease:<bucket>``; a forget adds its keys to
# the current bucket, a fill skips a key found in the current or the previous one, so a lease
# lasts one to two lease lengths. One SADD per forget instead of a key per lease: forgetting
# the ~40,000 keys of an incremental profile build took 0.3 s with a SET per lease, about what
# the UNLINK alone costs with the set. (The bucket sets are not among KEYS: one Redis, no
# cluster.)
_BUCKET = """
local now = redis.call('TIME')
local millis = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
return math.floor(millis / tonumber(ARGV[1]))
"""

_FORGET_WITH_LEASE = (
    "local bucket = (function() "
    + _BUCKET
    + """ end)()
redis.call('unlink', unpack(KEYS))
local set = ARGV[2] .. bucket
redis.call('sadd', set, unpack(KEYS))
redis.call('pexpire', set, 2 * tonumber(ARGV[1]) + 1000)
return #KEYS
"""
)

_SET_UNLESS_LEASED = (
    "local bucket = (function() "
    + _BUCKET
    + """ end)()
local now, before = ARGV[2] .. bucket, ARGV[2] .. (bucket - 1)
local stored = 0
for i = 1, #KEYS do
    if redis.call('sismember', now, KEYS[i]) == 0
            and redis.call('sismember', before, KEYS[i]) == 0 then
        if ARGV[3] == '' then
            redis.call('set', KEYS[i], ARGV[i + 3])
        else
            redis.call('set', KEYS[i], ARGV[i + 3], 'PX', ARGV[3])
        end
        stored = stored + 1
    end
end
return stored
"""
)

_scripts: dict = {}


def lease_seconds() -> float:
    """How long a forget holds off fills of the keys it dropped (``AGORA_CACHE_LEASE_SECONDS``,
    default 5 s; on Redis one to two times that, see the buckets above): longer than any
    read-then-fill of the store takes, short enough that the values are cached again at once
    for a reader. 0 turns leases off (the test suite does, so that its tests can warm a cache
    right after they set data up; the lease's own tests turn it on)."""
    from django.conf import settings

    return float(getattr(settings, "AGORA_CACHE_LEASE_SECONDS", 5))


def _script(client, source):
    script = _scripts.get((id(client), source))
    if script is None:
        script = _scripts[(id(client), source)] = client.register_script(source)
    return script


def _run_script(client, script, keys: list, args: list):
    """``script(keys=keys, args=args, client=client)`` with the command packed by hiredis in
    one call: redis-py's own packer walks every argument in Python (16-20 ms under cProfile
    for the ~38,000 keys a profile build forgets; hiredis packs them in ~3 ms; issue 15).
    Loads the script and sends again when Redis does not know it (``NOSCRIPT``, as redis-py's
    ``Script`` does). Raises what the connection raises (``REDIS_DOWN`` errors,
    ``ResponseError``)."""
    if _hiredis_pack is None:  # pragma: no cover (hiredis is in the lock file)
        return script(keys=keys, args=args, client=client)
    packed = [_hiredis_pack(("EVALSHA", script.sha, len(keys), *keys, *args))]
    pool = client.connection_pool
    connection = pool.get_connection()
    try:
        connection.send_packed_command(packed)
        try:
            return connection.read_response()
        except NoScriptError:
            client.script_load(script.script)
            connection.send_packed_command(packed)
            return connection.read_response()
    finally:
        pool.release(connection)  # a connection error has already disconnected it


def cache_forget(keys, *, alias: str = "default") -> None:
    """Delete the cache entries ``keys`` (cache keys as given to ``cache.get``) and hold a lease
    on each for ``lease_seconds()``, during which ``cache_set_unless_leased`` stores nothing
    there (see above). Redis: one Lua call per 5,000 keys; other backends (the embedded demo's
    local memory) delete and write the leases with ``delete_many``/``set_many``. While Redis is
    down nothing is cached or read, so the forget is skipped (the cache fails open)."""
    from django.core.cache import caches

    backend = caches[alias]
    keys = list(keys)
    if not keys:
        return
    millis = int(lease_seconds() * 1000)
    client = raw_redis(alias)
    if client is None:
        backend.delete_many(keys)
        if millis > 0:
            backend.set_many({LEASE_PREFIX + key: 1 for key in keys}, millis / 1000)
        return
    # make_key adds a fixed prefix and suffix (":1:key" by default): build them once instead of
    # calling make_key per key (40,000 keys after an incremental profile build)
    prefix, _, suffix = backend.make_key("\x00").partition("\x00")
    script = _script(client, _FORGET_WITH_LEASE)
    for start in range(0, len(keys), 5000):
        names = [f"{prefix}{key}{suffix}" for key in keys[start : start + 5000]]
        try:
            if millis <= 0:  # leases off (the test suite, but for the tests of the lease)
                client.unlink(*names)
            else:
                _run_script(client, script, names, [millis, _bucket_prefix(backend)])
        except REDIS_DOWN as exc:
            logger.warning("cache forget failed open (Redis unreachable): %s", exc)
            return


def _bucket_prefix(backend) -> str:
    return backend.make_key(LEASE_PREFIX)


def cache_set_unless_leased(mapping: dict, timeout, *, alias: str = "default") -> int:
    """Store ``mapping`` (cache key -> value) for ``timeout`` seconds (None: no expiry; the
    cache's default when omitted is not supported here), skipping each key a recent
    ``cache_forget`` holds a lease on; returns how many were stored. Redis: one atomic Lua
    call; other backends check the leases with ``get_many`` first (the local-memory cache of
    the embedded demo has one process). Fails open (0) while Redis is down."""
    from django.core.cache import caches

    backend = caches[alias]
    if not mapping or (timeout is not None and timeout <= 0):
        return 0  # Django's meaning of a timeout <= 0: do not keep it
    client = raw_redis(alias)
    if client is None:
        leased = backend.get_many([LEASE_PREFIX + key for key in mapping])
        free = {k: v for k, v in mapping.items() if LEASE_PREFIX + k not in leased}
        backend.set_many(free, timeout)
        return len(free)
    seconds = backend.get_backend_timeout(timeout)
    if seconds is not None and seconds <= 0:
        return 0  # under a second: Django's RedisCache would not keep it either
    lease = max(1, int(lease_seconds() * 1000))
    names = [backend.make_key(key) for key in mapping]
    serializer = backend._cache._serializer
    values = [lease, _bucket_prefix(backend), "" if seconds is None else int(seconds * 1000)]
    values += [serializer.dumps(value) for value in mapping.values()]
    try:
        return int(_script(client, _SET_UNLESS_LEASED)(keys=names, args=values, client=client))
    except REDIS_DOWN as exc:
        logger.warning("cache fill failed open (Redis unreachable): %s", exc)
        return 0


_HSET_UNLESS_LEASED = (
    "local bucket = (function() "
    + _BUCKET
    + """ end)()
if redis.call('sismember', ARGV[2] .. bucket, KEYS[1]) == 1
        or redis.call('sismember', ARGV[2] .. (bucket - 1), KEYS[1]) == 1 then
    return 0
end
redis.call('hset', KEYS[1], ARGV[3], ARGV[4])
redis.call('expire', KEYS[1], ARGV[5], 'NX')
return 1
"""
)


def cache_hset_unless_leased(key: str, field: str, value: bytes, timeout: int) -> bool:
    """Redis only: set ``field`` of the hash at cache key ``key`` to ``value`` and give the hash
    ``timeout`` seconds if it has no expiry yet, unless a recent ``cache_forget`` of ``key``
    holds its lease (one Lua call); True when stored. Raises the ``REDIS_DOWN`` errors (the
    caller fails open) and ``RuntimeError`` when the cache is not Redis."""
    from django.core.cache import caches

    backend = caches["default"]
    client = raw_redis()
    if client is None:
        raise RuntimeError("cache_hset_unless_leased needs the Redis cache")
    lease = max(1, int(lease_seconds() * 1000))
    args = [lease, _bucket_prefix(backend), field, value, int(timeout)]
    script = _script(client, _HSET_UNLESS_LEASED)
    return bool(script(keys=[backend.make_key(key)], args=args, client=client))


# --- writes deferred into one round trip (the whole-page cache's hit, shop.pagecache) ---------

_DEFERRED: ContextVar[list | None] = ContextVar("agora_deferred_redis_writes", default=None)


@contextmanager
def deferred_redis_writes():
    """Collect, instead of sending, the Redis writes made through ``defer_redis_write`` inside
    the block; yields the list of ``(command, key, args)`` tuples (``args``: str or bytes).

    The caller sends them itself, all in one round trip (``shop.pagecache`` runs them in the
    Lua script that checks a cached page's version), or drops them when it does not serve what
    produced them. Either way it owns their durability: dropped writes must be made again by
    the path that replaces them (the page rendered as usual records its own).
    """
    batch: list = []
    token = _DEFERRED.set(batch)
    try:
        yield batch
    finally:
        _DEFERRED.reset(token)


def deferring() -> bool:
    """True inside a ``deferred_redis_writes`` block (``defer_redis_write`` would collect)."""
    return _DEFERRED.get() is not None


def defer_redis_write(command: str, key: str, *args) -> bool:
    """Append ``command key *args`` to the active ``deferred_redis_writes`` batch and return
    True, or return False when no batch is active (the caller then sends it now, with its own
    fall-back). Only ``RPUSH`` and ``XADD`` are deferred (what a cached page's hit writes)."""
    batch = _DEFERRED.get()
    if batch is None:
        return False
    if command not in ("RPUSH", "XADD"):
        raise ValueError(f"{command} cannot be deferred")
    batch.append((command, key, args))
    return True
