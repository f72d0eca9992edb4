"""The global send rate: a token bucket in Redis shared by every worker.

``acquire(rate, burst)`` takes one token, sleeping until one is free. The bucket lives in one
Redis hash updated by a Lua script (atomic, and timed by the Redis server's clock, so workers
on several machines share one rate). Without REDIS_URL (the embedded ``make run``) a bucket in
the process is used instead: exact for the single local worker.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings

KEY = "outreach:send-bucket"

# Returns the seconds to wait before a token is free (0: one was taken).
LUA = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or t
tokens = math.min(burst, tokens + math.max(0, t - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(t))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 60000)
return tostring(wait)
"""

_client = None
_script = None
_local_lock = threading.Lock()
_local = {"tokens": None, "ts": 0.0}


def _redis():
    global _client, _script
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL)
        _script = _client.register_script(LUA)
    return _script


def try_acquire(rate: float, burst: int) -> float:
    """Take a token if one is free: returns 0.0, else the seconds until one will be."""
    if settings.REDIS_URL:
        return float(_redis()(keys=[KEY], args=[rate, burst]))
    with _local_lock:
        now = time.monotonic()
        tokens = _local["tokens"] if _local["tokens"] is not None else float(burst)
        tokens = min(burst, tokens + max(0.0, now - _local["ts"]) * rate)
        _local["ts"] = now
        if tokens >= 1:
            _local["tokens"] = tokens - 1
            return 0.0
        _local["tokens"] = tokens
        return (1 - tokens) / rate


def acquire(rate: float, burst: int) -> None:
    """Block until a token is taken (the global send rate)."""
    while True:
        wait = try_acquire(rate, burst)
        if wait <= 0:
            return
        time.sleep(min(wait, 1.0))
