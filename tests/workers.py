"""Real Celery workers for the tests: ``celery -A config worker`` subprocesses on the test
database and Redis, each test on a queue of its own.

``celery_workers(settings, ...)`` is the one place that starts them (environment, command line,
clean stop); the ``worker`` fixture is the common case. ``wait_for`` polls a condition with a
generous timeout (never a fixed sleep: the machine may be loaded).
"""

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app

BASE_DIR = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The URL of the test database (where a ``transaction=True`` test commits)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(predicate, timeout: float = 60.0) -> bool:
    """Poll ``predicate`` every 0.2 s until it is true (True) or ``timeout`` s pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@contextmanager
def celery_workers(settings, *, prefix: str = "test", queue: str | None = "", env=None):
    """Yield ``(start, queue)``: ``start()`` launches one more worker process and returns it.

    ``queue``: "" makes a queue of this test's own (``<prefix>-<random>``), None listens on the
    default queue. ``env``: extra environment for the workers. Tasks run eagerly again and every
    worker is stopped (terminate, then kill) on the way out.
    """
    if queue == "":
        queue = f"{prefix}-{uuid.uuid4().hex[:8]}"
    procs: list[subprocess.Popen] = []
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }

    def start() -> subprocess.Popen:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{queue or prefix}-{len(procs)}@%h",
        ]
        if queue:
            command += ["-Q", queue]
        proc = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        return proc

    app.conf.task_always_eager = False
    try:
        yield start, queue
    finally:
        app.conf.task_always_eager = True
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


@pytest.fixture
def worker(settings):
    """Workers on a queue of the test's own; yields ``(start, queue)`` (see ``celery_workers``)."""
    with celery_workers(settings, prefix="worker-test") as started:
        yield started
