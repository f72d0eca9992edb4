"""The Celery application. Configuration comes from Django settings (CELERY_* names)."""

import logging
import os
import time
from contextlib import contextmanager

from celery import Celery
from celery import Task as CeleryTask
from kombu.exceptions import OperationalError as BrokerOperationalError

#: Publishing failures that mean "the broker is not there".
BROKER_DOWN = (BrokerOperationalError, ConnectionError, TimeoutError)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger("agora.tasks")

#: After the broker refused a publish, this process parks the calls of the next this-many
#: seconds at once instead of trying again: each try costs kombu's connection attempts and
#: publish retries (about 0.6 s), paid by every request that queues a task during an outage.
BROKER_DOWN_PAUSE = 5.0
_broker_down_until = 0.0  # time.monotonic() until which publishing is not tried


def broker_pause_reset() -> None:
    """Try the broker again on the next publish (a publish succeeded; tests switch brokers)."""
    global _broker_down_until
    _broker_down_until = 0.0


class Task(CeleryTask):
    """Every Agora task: publishing never breaks the request that asked for it, and a call the
    broker refused is not lost.

    While the broker (Redis) is unreachable, ``apply_async``/``delay`` (and ``retry``, which
    publishes through them) store the call as a ``taskoutbox.ParkedTask`` row (task name, JSON
    args and kwargs, ``countdown``/``eta`` as an absolute time, queue and the other options of
    ``taskoutbox.services.KEPT_OPTIONS``) and return ``None`` instead of raising kombu's
    ``OperationalError`` from an ``on_commit`` hook, which would turn an order that *was* placed
    into a 500 page. The beat task ``taskoutbox.publish_parked`` (every 30 s) publishes the rows
    again once the broker is back, at least once, so every Agora task must be idempotent (a
    re-run changes nothing twice). Inside an atomic block the row is part of that transaction.
    Periodic runs sent by beat (header ``celery_beat_task``) are not parked: the next run on
    schedule does their work. After a refusal, the calls of the next ``BROKER_DOWN_PAUSE``
    seconds are parked without trying (a request during an outage does not wait ~0.6 s per
    task); a successful drain ends the pause.

    If the database is unreachable as well, the call is logged at ERROR with its arguments and
    lost: nothing else can be done. Some work has its own database sweep besides (order
    confirmations: ``shop.tasks.send_pending_confirmations``; outreach: its outbox; webhooks:
    their delivery rows; profiles: the event watermark) (issue 16).
    """

    def apply_async(
        self,
        args=None,
        kwargs=None,
        task_id=None,
        producer=None,
        link=None,
        link_error=None,
        shadow=None,
        **options,
    ):
        global _broker_down_until
        if not self.app.conf.task_always_eager and time.monotonic() < _broker_down_until:
            error = "not tried: the broker refused a publish moments ago"
            return self._refused(args, kwargs, shadow, options, error)
        try:
            result = super().apply_async(
                args, kwargs, task_id, producer, link, link_error, shadow, **options
            )
        except BROKER_DOWN as exc:
            _broker_down_until = time.monotonic() + BROKER_DOWN_PAUSE
            return self._refused(args, kwargs, shadow, options, exc)
        return result

    def _refused(self, args, kwargs, shadow, options, error) -> None:
        if (options.get("headers") or {}).get("celery_beat_task"):
            # A periodic run: beat sends the next one on time; parking every missed run of an
            # outage would only replay hundreds of redundant sweeps afterwards.
            logger.warning("periodic task %s skipped (broker unreachable): %s", self.name, error)
            return None
        from taskoutbox.services import task_park

        task_park(
            name=self.name,
            args=args,
            kwargs=kwargs,
            options={**options, **({"shadow": shadow} if shadow else {})},
            error=error,
        )
        return None

    def publish(self, args=None, kwargs=None, **options):
        """``apply_async`` without the outbox: raises ``BROKER_DOWN`` errors (the outbox's
        drain uses it, so a still-down broker does not park the row a second time). A publish
        that went through ends the pause (``BROKER_DOWN_PAUSE``) at once."""
        result = super().apply_async(args, kwargs, **options)
        broker_pause_reset()
        return result


app = Celery("agora", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@contextmanager
def eager_tasks():
    """Run tasks in-process for a while (demo seeding: no worker needs to be running), without
    a log line per task."""
    previous = app.conf.task_always_eager
    trace_logger = logging.getLogger("celery.app.trace")
    previous_level = trace_logger.level
    app.conf.task_always_eager = True
    trace_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        app.conf.task_always_eager = previous
        trace_logger.setLevel(previous_level)
