"""A real Celery worker (subprocess) builds profiles from Redis-queued tasks on PostgreSQL."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from config.celery import app
from personalization import services
from personalization.models import PreferenceProfile, ProfileBuildState
from personalization.tasks import build_profiles, rebuild_profile
from tests.factories import UserFactory

from .helpers import activity, assert_same_profiles, catalogue, snapshot

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]
BASE_DIR = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(settings):
    """Start ``celery -A config worker`` on a queue of its own; yields a starter."""
    queue = f"pz-test-{uuid.uuid4().hex[:8]}"
    procs = []
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),  # the test database, where this test commits
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONUNBUFFERED": "1",
    }

    def start():
        proc = subprocess.Popen(
            [
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
                "-Q",
                queue,
                "-n",
                f"{queue}-{len(procs)}@%h",
            ],
            cwd=BASE_DIR,
            env=env,
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


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_worker_builds_profiles_and_rebuilds_one_shopper(worker):
    start, queue = worker
    products = catalogue()
    alice, bob = UserFactory(), UserFactory()
    activity(alice, products)
    activity(bob, products, days_ago=3)
    start()

    build_profiles.apply_async(queue=queue)

    assert _wait_for(lambda: PreferenceProfile.objects.count() == 2), "worker built nothing"
    assert PreferenceProfile.objects.get(user=alice).event_count == 9
    PreferenceProfile.objects.filter(user=bob).update(event_count=0)  # damage one profile
    rebuild_profile.apply_async(args=[bob.pk], queue=queue)  # JSON-serialised argument
    assert _wait_for(lambda: PreferenceProfile.objects.get(user=bob).event_count == 9)


def test_worker_killed_mid_build_leaves_profiles_as_one_clean_run(worker):
    start, queue = worker
    products = catalogue()
    users = [UserFactory() for _ in range(3)]
    for user in users:
        activity(user, products)
    first = start()
    # Hold the run-log table: the build writes the profiles, then waits on its last insert.
    blocker = psycopg.connect(_database_url().replace("postgres://", "postgresql://"))
    blocker.execute("LOCK TABLE personalization_profilebuildrun IN ACCESS EXCLUSIVE MODE")
    try:
        build_profiles.apply_async(queue=queue)
        waiting = _wait_for(
            lambda: (
                _scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE '%personalization_profilebuildrun%'"
                )
                > 0
            )
        )
        assert waiting, "the build never reached its last write"
        first.kill()  # SIGKILL: no cleanup, no commit
        first.wait(10)
    finally:
        blocker.rollback()
        blocker.close()
    time.sleep(0.5)
    assert PreferenceProfile.objects.count() == 0
    assert not ProfileBuildState.objects.filter(watermark__gt=0).exists()

    # With acks_late the broker hands the message out again (after its visibility timeout);
    # the test sends it again at once.
    start()
    build_profiles.apply_async(queue=queue)
    assert _wait_for(lambda: PreferenceProfile.objects.count() == 3)
    after_redelivery = snapshot()
    services.profile_build_full()
    assert_same_profiles(after_redelivery, snapshot())


def _scalar(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]
