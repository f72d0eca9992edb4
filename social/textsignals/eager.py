"""Run Celery tasks in-process for a while (demo seeding: no worker needs to be running)."""

from contextlib import contextmanager


@contextmanager
def eager_tasks():
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous
