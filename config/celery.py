"""The Celery application. Configuration comes from Django settings (CELERY_* names)."""

import logging
import os
from contextlib import contextmanager

from celery import Celery
from celery import Task as CeleryTask
from kombu.exceptions import OperationalError as BrokerOperationalError

#: Publishing failures that mean "the broker is not there".
BROKER_DOWN = (BrokerOperationalError, ConnectionError, TimeoutError)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger("agora.tasks")


class Task(CeleryTask):
    """Every Agora task: publishing never breaks the request that asked for it.

    While the broker (Redis) is unreachable, ``apply_async``/``delay`` log the task at ERROR and
    return ``None`` instead of raising kombu's ``OperationalError`` from an ``on_commit`` hook,
    which would turn an order that *was* placed into a 500 page. Work that must not be lost is
    therefore never only in the broker: it has a row that a beat sweep picks up again (order
    confirmations: ``shop.tasks.send_pending_confirmations``; outreach: the outbox; webhooks:
    their delivery rows; profiles: the event watermark) (issue 16).
    """

    def apply_async(self, *args, **kwargs):
        try:
            return super().apply_async(*args, **kwargs)
        except BROKER_DOWN as exc:
            logger.error("task %s not queued (broker unreachable): %s", self.name, exc)
            return None


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
