"""A full rebuild writes only the profiles it changes, and reports exactly those (issue 15)."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from personalization import building, events, profile_sql, services
from personalization.models import Event, PreferenceProfile, ShopperChoice
from tests.factories import UserFactory

from .helpers import activity, catalogue

pytestmark = pytest.mark.django_db(transaction=True)


def _row_versions():
    """Each profile's physical row version: a write (even of equal values) gives a new one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT user_id, ctid::text FROM personalization_preferenceprofile")
        return dict(cursor.fetchall())


def test_a_second_full_build_over_the_same_events_writes_no_profile():
    products = catalogue()
    alice, bob = UserFactory(), UserFactory()
    activity(alice, products, order="A1")
    activity(bob, products, days_ago=5, order="B1")
    first = services.profile_build_full()
    assert first.profiles == 2 and sorted(first.changed_user_ids) == sorted([alice.pk, bob.pk])
    before = _row_versions()
    assert set(before) == {alice.pk, bob.pk}

    again = services.profile_build_full()

    assert again.profiles == 0 and again.changed_user_ids == []
    assert _row_versions() == before

    events.record(Event.Kind.VIEW, user=bob, product=products[0])
    third = services.profile_build_full()
    assert third.changed_user_ids == [bob.pk]
    after = _row_versions()
    assert after[alice.pk] == before[alice.pk] and after[bob.pk] != before[bob.pk]


def test_scores_add_up_in_the_same_order_whatever_the_events_physical_order(settings):
    """Floating-point sums depend on the order of addition; the build fixes the order, so the
    same events give bit-identical scores (else every nightly build would rewrite every
    profile). A like and its unlike weigh far more than an old view: added in another order the
    view's share would be lost or kept."""
    settings.PERSONALIZATION_HALF_LIFE_DAYS = 1
    shoe, _, _ = catalogue()
    user = UserFactory()
    now = timezone.now()
    events.record(Event.Kind.VIEW, user=user, product=shoe, occurred_at=now - timedelta(days=60))
    for kind in (Event.Kind.LIKE, Event.Kind.UNLIKE, Event.Kind.VIEW, Event.Kind.LIKE):
        events.record(kind, user=user, product=shoe, occurred_at=now)
    services.profile_build_full()
    stored = PreferenceProfile.objects.get(user=user).affinity_raw
    for _ in range(3):
        # move every event to the end of the table, in another order each time
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE personalization_event SET attributes = attributes "
                "WHERE id IN (SELECT id FROM personalization_event ORDER BY random())"
            )
        result = services.profile_build_full()
        assert result.changed_user_ids == []
        assert PreferenceProfile.objects.get(user=user).affinity_raw == stored


def test_cleared_and_deleted_profiles_are_reported_so_their_caches_are_forgotten():
    products = catalogue()
    kept, cleared, leaving = UserFactory(), UserFactory(), UserFactory()
    for user in (kept, cleared, leaving):
        activity(user, products)
    services.profile_build_full()
    assert PreferenceProfile.objects.count() == 3
    Event.objects.filter(user=cleared).delete()
    ShopperChoice.objects.update_or_create(
        user=leaving, defaults={"personalization_enabled": False}
    )

    result = building.build_full()

    # the cleared profile had no demographics, so it is deleted as empty
    assert sorted(result.changed_user_ids) == sorted([cleared.pk, leaving.pk])
    assert list(PreferenceProfile.objects.values_list("user_id", flat=True)) == [kept.pk]


def test_a_first_full_build_never_reads_the_profile_table_while_filling_it():
    """Writing new profiles must not look them up in the table being filled: planned while it
    was empty, such a lookup rescanned the growing table for every row (100,000 new profiles
    took over 12 minutes). The statement takes "new" from the aggregation's comparison."""
    products = catalogue()
    for n in range(30):
        activity(UserFactory(), products, order=f"N{n}")
    assert not PreferenceProfile.objects.exists()
    with transaction.atomic(), connection.cursor() as cursor:
        hi = Event.objects.order_by("-id").first().id
        building.aggregate_sql(cursor, lo=0, hi=hi, compare=True)
        cursor.execute("SELECT change, count(*) FROM pz_agg GROUP BY change")
        assert cursor.fetchall() == [("new", 30)]
        cursor.execute("EXPLAIN " + profile_sql.FULL_NEW)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    scans = [line for line in plan.splitlines() if "Scan" in line]
    assert scans and not [line for line in scans if "preferenceprofile" in line], plan


def _compared_rows():
    """What a full build's aggregation hands the writes: (user id, change), sorted."""
    with transaction.atomic(), connection.cursor() as cursor:
        hi = Event.objects.order_by("-id").first().id
        building.aggregate_sql(cursor, lo=0, hi=hi, compare=True)
        cursor.execute("SELECT user_id, change FROM pz_agg ORDER BY user_id")
        rows = cursor.fetchall()
        transaction.set_rollback(True)
    return rows


def test_the_aggregation_hands_over_only_the_profiles_a_full_build_must_write():
    products = catalogue()
    same, more, cleared, emptied = (UserFactory() for _ in range(4))
    for user in (same, more, cleared, emptied):
        activity(user, products)
    services.profile_build_full()
    assert PreferenceProfile.objects.count() == 4  # precondition
    assert _compared_rows() == []  # nothing changed: nothing to write

    events.record(Event.Kind.VIEW, user=more, product=products[1])
    PreferenceProfile.objects.filter(user=cleared).update(demographics={"age_band": "25-34"})
    Event.objects.filter(user__in=[cleared, emptied]).delete()
    newcomer = UserFactory()
    activity(newcomer, products)

    assert _compared_rows() == sorted(
        [
            (more.pk, "changed"),
            (cleared.pk, "cleared"),  # no event any more, demographics kept
            (emptied.pk, "empty"),  # no event, no demographics: deleted after the write
            (newcomer.pk, "new"),
        ]
    )
