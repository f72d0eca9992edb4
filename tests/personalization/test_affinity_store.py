"""How affinities are stored: key ids in the InterestKey dictionary beside raw scores (issue 15).

``PreferenceProfile.affinities`` is the Python-facing dict; the table holds two arrays of the
same length. The dictionary only grows and an id keeps its key; migration 0008 converts the
JSON object of older profiles to the arrays and back.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from personalization import building, events, models, services
from personalization.models import (
    Event,
    InterestKey,
    PreferenceProfile,
    interest_ids,
    interest_keys,
)
from tests.factories import UserFactory

from .helpers import activity, assert_same_profiles, catalogue, snapshot

pytestmark = pytest.mark.django_db(transaction=True)


def _view(user, product):
    events.record(Event.Kind.VIEW, user=user, product=product, occurred_at=timezone.now())


def _pairs(profile) -> list[tuple[int, float]]:
    return list(zip(profile.affinity_ids, profile.affinity_raw, strict=True))


def test_a_build_stores_each_key_once_by_its_dictionary_id():
    products = catalogue()
    user = UserFactory()
    activity(user, products)
    assert not InterestKey.objects.exists()

    services.profile_build_incremental()

    stored = PreferenceProfile.objects.get(user=user)
    expected = building.aggregate_python(lo=0, hi=10**9)[user.pk].affinities
    assert len(expected) >= 6  # categories, brands, colours, a size, styles, price bands
    assert len(stored.affinity_ids) == len(set(stored.affinity_ids)) == len(stored.affinity_raw)
    keys = dict(InterestKey.objects.values_list("id", "key"))
    decoded = {keys[i]: raw for i, raw in _pairs(stored)}
    assert decoded.keys() == expected.keys()
    for key, raw in expected.items():
        assert decoded[key] == pytest.approx(raw, rel=1e-12)
    assert stored.affinities == decoded


def test_the_dictionary_only_grows_and_ids_keep_their_keys():
    shoe, bag, camera = catalogue()
    first, second = UserFactory(), UserFactory()
    _view(first, shoe)
    services.profile_build_incremental()
    before = dict(InterestKey.objects.values_list("key", "id"))
    assert before

    activity(second, [shoe, bag, camera])
    services.profile_build_incremental()
    services.profile_build_full()
    services.profile_rebuild_for_user(user_id=first.pk)

    after = dict(InterestKey.objects.values_list("key", "id"))
    assert after.items() >= before.items()  # nothing renumbered or dropped
    assert len(after) > len(before)  # the bag's and the camera's own keys were added once
    assert f"category:{camera.category_id}" in after
    assert set(PreferenceProfile.objects.get(user=first).affinities) <= set(before)


def test_incremental_adds_scores_of_a_key_already_stored():
    products = catalogue()
    user = UserFactory()
    activity(user, products)
    services.profile_build_incremental()
    once = PreferenceProfile.objects.get(user=user).affinities

    activity(user, products, order="A2")  # the same acts again, a few ms later
    services.profile_build_incremental()

    stored = PreferenceProfile.objects.get(user=user)
    assert len(stored.affinity_ids) == len(set(stored.affinity_ids))
    assert stored.affinities.keys() == once.keys()
    for key, raw in once.items():
        assert stored.affinities[key] == pytest.approx(2 * raw, rel=1e-6), key


def test_the_property_encodes_new_keys_and_decodes_them_back():
    user = UserFactory()
    profile = PreferenceProfile(user=user, affinities={"style:new": 1.5, "colour:red": -0.25})
    profile.save()
    assert InterestKey.objects.filter(key__in=["style:new", "colour:red"]).count() == 2

    stored = PreferenceProfile.objects.get(user=user)
    assert stored.affinities == {"style:new": 1.5, "colour:red": -0.25}
    assert stored.affinity_ids == sorted(stored.affinity_ids)
    assert interest_keys(interest_ids(["colour:red", "style:new"])) == ["colour:red", "style:new"]

    stored.affinities = {}
    stored.save()
    assert PreferenceProfile.objects.get(user=user).affinity_ids == []
    assert PreferenceProfile.objects.get(user=user).affinity_raw == []


def test_an_unknown_id_is_an_error_not_a_wrong_key():
    top = InterestKey.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with pytest.raises(KeyError):
        interest_keys([top + 1000])


def test_migration_0008_converts_json_affinities_to_arrays_and_back():
    user = UserFactory()
    executor = MigrationExecutor(connection)
    target_before = [("personalization", "0007_event_stream_cursor")]
    target_after = [("personalization", "0008_profile_affinity_arrays")]
    try:
        executor.migrate(target_before)
        apps = executor.loader.project_state(target_before).apps
        Old = apps.get_model("personalization", "PreferenceProfile")
        scores = {"category:7": 2.5, "brand:3": -1.0, "colour:navy blue": 1e-300}
        Old.objects.create(user_id=user.pk, affinities=scores, updated_at=timezone.now())
        Old.objects.create(user_id=UserFactory().pk, affinities={}, updated_at=timezone.now())

        executor = MigrationExecutor(connection)
        executor.migrate(target_after)
        models._KEY_BY_ID.clear()  # the dictionary table was made anew

        stored = PreferenceProfile.objects.get(user=user)
        assert stored.affinities == scores
        assert len(stored.affinity_ids) == 3 and stored.affinity_ids == sorted(stored.affinity_ids)
        assert PreferenceProfile.objects.exclude(user=user).get().affinity_ids == []

        executor = MigrationExecutor(connection)
        executor.migrate(target_before)
        apps = executor.loader.project_state(target_before).apps
        Old = apps.get_model("personalization", "PreferenceProfile")
        assert Old.objects.get(user_id=user.pk).affinities == scores
        assert Old.objects.exclude(user_id=user.pk).get().affinities == {}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        models._KEY_BY_ID.clear()


def _staging_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class"
            " WHERE relname LIKE 'pz\\_ev\\_%' OR relname LIKE 'pz\\_pc\\_%'"
        )
        return [row[0] for row in cursor.fetchall()]


def test_affinities_summed_in_parts_equal_one_pass_and_leave_no_table(monkeypatch):
    products = catalogue()
    users = [UserFactory() for _ in range(7)]
    for n, user in enumerate(users):
        activity(user, products, days_ago=n)
    services.profile_build_full()
    one_pass = snapshot()
    assert len(one_pass) == len(users) and all(p["affinities"] for p in one_pass.values())

    # what a build of more than ANALYZE_ABOVE_EVENTS events does, on this small data
    monkeypatch.setattr(building, "ANALYZE_ABOVE_EVENTS", 0)
    monkeypatch.setattr(building, "AFFINITY_PARTS", 3)
    PreferenceProfile.objects.all().delete()
    services.profile_build_full()

    assert_same_profiles(snapshot(), one_pass)
    assert _staging_tables() == []


def test_shopper_ranges_cover_every_id_once_with_balanced_parts():
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE pz_ranges_test AS SELECT (g % 900) + 1 AS user_id "
            "FROM generate_series(1, 9000) g"
        )
        cursor.execute("ANALYZE pz_ranges_test")
        ranges = building._shopper_ranges(cursor, "pz_ranges_test", 3)
        assert len(ranges) == 3
        assert ranges[0][0] == 0 and ranges[-1][1] == 2**31
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
        counts = []
        for low, high in ranges:
            cursor.execute(
                "SELECT count(*) FROM pz_ranges_test WHERE user_id >= %s AND user_id < %s",
                [low, high],
            )
            counts.append(cursor.fetchone()[0])
        assert sum(counts) == 9000 and min(counts) > 9000 / 3 * 0.8
        # one part, or statistics without a histogram: every shopper in one range
        assert building._shopper_ranges(cursor, "pz_ranges_test", 1) == [(0, 2**31)]
        assert building._shopper_ranges(cursor, "no_such_table", 3) == [(0, 2**31)]


def test_a_build_in_several_ranges_equals_one_pass(monkeypatch):
    products = catalogue()
    users = [UserFactory() for _ in range(40)]
    for n, user in enumerate(users):
        activity(user, products, days_ago=n % 9, order=f"O{n}")
    services.profile_build_full()
    one_pass = snapshot()
    assert len(one_pass) == len(users)

    monkeypatch.setattr(building, "ANALYZE_ABOVE_EVENTS", 0)
    monkeypatch.setattr(building, "AFFINITY_PARTS", 3)
    used = []
    real = building._shopper_ranges
    monkeypatch.setattr(building, "_shopper_ranges", lambda *a: used.append(real(*a)) or used[-1])
    PreferenceProfile.objects.all().delete()
    services.profile_build_full()

    assert len(used) == 1 and len(used[0]) == 3  # the build really ran in three ranges
    assert_same_profiles(snapshot(), one_pass)
