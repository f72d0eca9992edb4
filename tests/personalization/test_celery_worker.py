"""A real Celery worker (subprocess) builds profiles from Redis-queued tasks on PostgreSQL."""

import time

import psycopg
import pytest
from django.db import connection

from personalization import services
from personalization.models import PreferenceProfile, ProfileBuildState
from personalization.tasks import build_profiles, rebuild_profile
from tests.factories import UserFactory
from tests.workers import database_url as _database_url
from tests.workers import wait_for as _wait_for
from tests.workers import worker  # noqa: F401

from .helpers import activity, assert_same_profiles, catalogue, snapshot

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]


def test_worker_builds_profiles_and_rebuilds_one_shopper(worker):  # noqa: F811
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


def test_worker_killed_mid_build_leaves_profiles_as_one_clean_run(worker):  # noqa: F811
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
