"""The Celery application. Configuration comes from Django settings (CELERY_* names)."""

import logging
import os
from contextlib import contextmanager

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("agora")
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
