"""The incremental build's affinity merge: ``personalization_affinity_add`` (migration 0010).

``profile_sql.UPSERT_ADD`` calls it once per stored profile the batch touches: the stored
(key id, raw score) arrays plus the batch's. Whatever the two hold, the result must be what the
Python twin's ``building._add`` gives (each key once, stored + added for a key in both, new
keys kept), and readers' ``affinity_raw[array_position(affinity_ids, id)]`` must find them.
"""

import pytest
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from personalization import building, services
from personalization.models import InterestKey, PreferenceProfile
from tests.factories import UserFactory

from .helpers import activity, catalogue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _merge(stored: dict[int, float], added: dict[int, float]) -> tuple[list, list]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.affinity_ids, m.affinity_raw FROM personalization_affinity_add("
            "%s::int[], %s::float8[], %s::int[], %s::float8[]) AS m",
            [list(stored), list(stored.values()), list(added), list(added.values())],
        )
        return cursor.fetchone()


def test_a_key_in_both_adds_up_in_place_and_new_keys_are_appended():
    ids, raw = _merge({7: 1.5, 3: 0.1, 9: -2.0}, {3: 0.2, 11: 4.0, 9: 2.0, 1: 1e-300})

    assert ids == [7, 3, 9, 11, 1]  # the stored order kept, new keys after it
    assert raw == [1.5, 0.1 + 0.2, 0.0, 4.0, 1e-300]  # float8 sums exactly as Python's


@pytest.mark.parametrize(
    ("stored", "added", "expected"),
    [
        ({}, {}, ([], [])),
        ({}, {4: 2.5, 2: 1.0}, ([4, 2], [2.5, 1.0])),
        ({4: 2.5, 2: 1.0}, {}, ([4, 2], [2.5, 1.0])),
        ({4: 2.5}, {4: 0.5}, ([4], [3.0])),
    ],
)
def test_empty_sides_give_the_other_side_never_null(stored, added, expected):
    assert _merge(stored, added) == expected


def test_null_arrays_count_as_empty():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.affinity_ids, m.affinity_raw"
            " FROM personalization_affinity_add(NULL, NULL, '{5}', '{1.25}') AS m"
        )
        assert cursor.fetchone() == ([5], [1.25])
        cursor.execute(
            "SELECT m.affinity_ids, m.affinity_raw"
            " FROM personalization_affinity_add('{5}', '{1.25}', NULL, NULL) AS m"
        )
        assert cursor.fetchone() == ([5], [1.25])


scores = st.dictionaries(
    st.integers(1, 40),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    max_size=35,
)


@given(stored=scores, added=scores)
@hsettings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_the_merge_equals_the_python_twin_on_random_scores(stored, added):
    ids, raw = _merge(stored, added)

    assert len(ids) == len(set(ids)) == len(raw)
    expected = dict(stored)
    for key, value in added.items():  # building._add, the Python twin
        expected[key] = expected.get(key, 0.0) + value
    assert dict(zip(ids, raw, strict=True)) == expected  # exact: the same two-term sums
    with connection.cursor() as cursor:  # how readers (the segments' affinity rule) find a score
        for key, value in expected.items():
            cursor.execute("SELECT (%s::float8[])[array_position(%s::int[], %s)]", [raw, ids, key])
            assert cursor.fetchone()[0] == value


@pytest.mark.django_db(transaction=True)
def test_a_second_batch_adds_to_stored_keys_and_appends_its_new_ones():
    shoe, bag, camera = catalogue()
    user = UserFactory()
    activity(user, [shoe, bag, shoe])  # no camera yet: its keys are new in the second batch
    services.profile_build_incremental()
    first = PreferenceProfile.objects.get(user=user)
    camera_category = InterestKey.objects.filter(key=f"category:{camera.category_id}")
    assert first.affinity_ids and not camera_category.exists()

    activity(user, [shoe, bag, camera], order="A2")
    services.profile_build_incremental()

    stored = PreferenceProfile.objects.get(user=user)
    assert stored.affinity_ids[: len(first.affinity_ids)] == first.affinity_ids
    assert camera_category.get().id in stored.affinity_ids[len(first.affinity_ids) :]
    assert len(stored.affinity_ids) == len(set(stored.affinity_ids)) == len(stored.affinity_raw)
    expected = building.aggregate_python(lo=0, hi=10**9)[user.pk].affinities  # one pass
    assert stored.affinities.keys() == expected.keys()
    for key, raw in expected.items():
        assert stored.affinities[key] == pytest.approx(raw, rel=1e-12), key
