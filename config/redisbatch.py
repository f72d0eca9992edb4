"""Send a request's small Redis writes in one round trip (issue 15).

A page served from a cache still records things per view: the banner decision (an RPUSH) and
the view event (an XADD). Each is its own round trip, and on a busy machine a round trip costs
more than the rest of the hit. Inside ``batched()``, writers that support it queue their command
with ``queue`` instead of sending it; at the end of the block the commands go in one pipeline.
If Redis does not answer, each queued write's fallback runs instead (the writers' own: a direct
insert into PostgreSQL), so nothing is lost, as when the write is sent alone.
"""

import contextvars
import logging
from collections.abc import Callable
from contextlib import contextmanager

from .cache import REDIS_DOWN, raw_redis

logger = logging.getLogger(__name__)
_BATCH: contextvars.ContextVar[list | None] = contextvars.ContextVar("agora_redis_batch")


@contextmanager
def batched():
    """Within the block, ``queue``\\d writes wait; they are sent in one pipeline when it ends
    (also when it raises). Nested blocks join the outer one."""
    if _BATCH.get(None) is not None:
        yield
        return
    items: list = []
    token = _BATCH.set(items)
    try:
        yield
    finally:
        _BATCH.reset(token)
        flush(items)


def queue(command: Callable, fallback: Callable[[], object]) -> bool:
    """Queue ``command(pipeline)`` in the current ``batched()`` block; True when queued, False
    outside one (the caller then writes as usual). ``fallback()`` runs instead when the pipeline
    fails (Redis down or refusing the command)."""
    items = _BATCH.get(None)
    if items is None:
        return False
    items.append((command, fallback))
    return True


def flush(items) -> None:
    """Send ``items`` ((command, fallback) pairs) in one pipeline; the fallback of each command
    that did not succeed runs (all of them if the connection failed)."""
    if not items:
        return
    client = raw_redis()
    failed = list(items)
    if client is not None:
        try:
            pipe = client.pipeline(transaction=False)
            for command, _fallback in items:
                command(pipe)
            results = pipe.execute(raise_on_error=False)
            failed = [
                item
                for item, result in zip(items, results, strict=True)
                if isinstance(result, Exception)
            ]
        except REDIS_DOWN:
            logger.warning("batched Redis writes failed; falling back", exc_info=True)
    for _command, fallback in failed:
        fallback()
