"""Point this process's Celery app at another broker for a while (a dead port: the broker is
down; a Redis of the test's own: it can be stopped), with tasks published, not run eagerly."""

from contextlib import contextmanager

from config.celery import app, broker_pause_reset


def _reset_pools() -> None:
    app._pool = None  # Celery builds both lazily from conf.broker_url on the next publish
    app.amqp._producer_pool = None
    broker_pause_reset()  # another broker: try it at once


@contextmanager
def broker_at(url: str, *, queue: str | None = None):
    """Publish to the broker at ``url`` (and to ``queue`` as the default queue, if given) until
    the block ends; eager mode is off meanwhile. Everything is restored on the way out."""
    saved = (app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    if queue:
        app.conf.task_default_queue = queue
    _reset_pools()
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue = saved
        _reset_pools()
