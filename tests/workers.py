"""Real Celery workers for the tests: ``celery -A config worker`` subprocesses on the test
database and Redis, each test on a queue of its own.

``celery_workers(settings, ...)`` is the one place that starts them (environment, command line,
clean stop); the ``worker`` fixture is the common case. ``wait_for`` polls a condition with a
generous timeout (never a fixed sleep: the machine may be loaded).
"""

import os
import socket
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
READY_TIMEOUT = 240.0  # seconds for a worker to answer its first ping


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
def celery_workers(
    settings, *, prefix: str = "test", queue: str | None = "", env=None, pool: str = "solo"
):
    """Yield ``(start, queue)``: ``start()`` launches one more worker process and returns it.

    ``queue``: "" makes a queue of this test's own (``<prefix>-<random>``); None makes such a
    queue the *default* queue of the workers and of this process while they run, so tasks sent
    without a queue (``delay()`` in the code under test, in the test or in the worker) reach
    these workers and no other test's (parallel test processes share Redis). ``env``: extra
    environment for the workers. Tasks run eagerly again and every worker is stopped
    (terminate, then kill) on the way out.
    """
    as_default = queue is None
    if not queue:
        queue = f"{prefix}-{uuid.uuid4().hex[:8]}"
    procs: list[subprocess.Popen] = []
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONUNBUFFERED": "1",
        **({"CELERY_TASK_DEFAULT_QUEUE": queue} if as_default else {}),
        **(env or {}),
    }

    def start() -> subprocess.Popen:
        """Launch a worker and return once it answers a ping (start-up on a loaded machine
        can take a minute; the tests' own timeouts then cover only the work)."""
        name = f"{queue or prefix}-{len(procs)}@{socket.gethostname()}"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            f"--pool={pool}",
            *(["--concurrency=1"] if pool == "prefork" else []),
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            name,
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
        ready = wait_for(
            lambda: (
                proc.poll() is not None or bool(app.control.ping(destination=[name], timeout=1.0))
            ),
            timeout=READY_TIMEOUT,
        )
        assert ready and proc.poll() is None, f"the Celery worker {name} did not start"
        return proc

    app.conf.task_always_eager = False
    default_queue = app.conf.task_default_queue
    if as_default:
        app.conf.task_default_queue = queue
    try:
        yield start, queue
    finally:
        app.conf.task_always_eager = True
        app.conf.task_default_queue = default_queue
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


def two_copies_past_a_held_send(sink, address: str, call) -> tuple[list, list]:
    """Run ``call`` (one copy of an email task) in a thread until the SMTP ``sink`` holds it at
    RCPT for ``address`` (its claim row locked), run a second copy meanwhile, then let the first
    go (the sink answers it "451 try again later"). Returns ``(results, errors)``: the second
    copy's result first if it returned at once, and what the held copy raised."""
    import threading

    from django.db import connections

    sink.handler.stall.add(address.lower())
    results, errors = [], []

    def run():
        try:
            results.append(call())
        except Exception as exc:  # the caller's assertions report it
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=run)
    first.start()
    assert wait_for(lambda: sink.handler.stalled, timeout=30), "the first copy never sent"
    second = threading.Thread(target=run)
    second.start()
    second.join(30)
    second_results = list(results)
    sink.handler.release()
    first.join(30)
    return second_results, errors
