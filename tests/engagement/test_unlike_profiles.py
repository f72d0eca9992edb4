"""A withdrawn like stops counting in preference profiles, incremental and full builds alike."""

import pytest

from personalization import building
from personalization import services as profiles
from personalization.models import Event, PreferenceProfile
from personalization.selectors import load_profile
from social.engagement import services
from tests.factories import ProductFactory, UserFactory
from tests.personalization.helpers import assert_same_profiles, snapshot

# transaction=True: builds forget cached profiles and enqueue rebuilds on commit.
pytestmark = pytest.mark.django_db(transaction=True)


def test_unlike_records_an_event_that_cancels_the_like():
    shopper, product = UserFactory(), ProductFactory()
    services.like_add(user=shopper, obj=product)

    assert services.like_remove(user=shopper, obj=product) is True
    assert services.like_remove(user=shopper, obj=product) is False  # nothing left: no event

    like = Event.objects.get(kind="like", user=shopper)
    unlike = Event.objects.get(kind="unlike", user=shopper)
    assert unlike.product == product
    assert unlike.occurred_at == like.occurred_at  # dated at the like, so the two cancel
    assert unlike.attributes["cancels"] == like.pk
    assert unlike.attributes["target"] == "product" and "withdrawn_at" in unlike.attributes


def test_a_withdrawn_like_is_no_interest_and_incremental_equals_full():
    shopper = UserFactory()
    camera, shoe = ProductFactory(name="Camera"), ProductFactory(name="Shoe")
    services.like_add(user=shopper, obj=camera)
    services.like_add(user=shopper, obj=shoe)
    profiles.profile_build_incremental()
    assert str(camera.category_id) in load_profile(user_id=shopper.pk).top("category", 5)

    services.like_set(user=shopper, obj=camera, liked=False)  # the toggle the page sends
    profiles.profile_build_incremental()
    incremental = snapshot()

    top = load_profile(user_id=shopper.pk).top("category", 5)
    assert str(camera.category_id) not in top
    assert top == [str(shoe.category_id)]
    stored = PreferenceProfile.objects.get(user=shopper).affinities
    assert stored[f"category:{shoe.category_id}"] > 0
    assert stored.get(f"category:{camera.category_id}", 0) == pytest.approx(0, abs=1e-9)

    profiles.profile_build_full()
    assert_same_profiles(incremental, snapshot())
    # and the Python twin (SQLite's path) agrees with what the build stored
    expected = building.aggregate_python(lo=0, hi=Event.objects.order_by("-pk").first().pk)
    assert expected[shopper.pk].affinities[f"category:{camera.category_id}"] == 0


def test_like_again_after_unlike_counts_once():
    shopper, camera = UserFactory(), ProductFactory()
    services.like_add(user=shopper, obj=camera)
    services.like_remove(user=shopper, obj=camera)
    services.like_add(user=shopper, obj=camera)
    services.like_remove(user=shopper, obj=camera)
    services.like_add(user=shopper, obj=camera)
    profiles.profile_build_full()

    unlikes = Event.objects.filter(kind="unlike", user=shopper)
    assert unlikes.count() == 2
    assert len({e.attributes["cancels"] for e in unlikes}) == 2  # each cancels its own like
    last_like = Event.objects.filter(kind="like", user=shopper).order_by("-pk").first()
    stored = PreferenceProfile.objects.get(user=shopper).affinities
    raw_of_one_like = 3.0 / building.decay_factor(last_like.occurred_at)
    assert stored[f"category:{camera.category_id}"] == pytest.approx(raw_of_one_like, rel=1e-9)


def test_a_like_without_a_like_event_records_no_unlike():
    """Likes created without an event (demo data) have nothing to cancel: no negative score."""
    from social.engagement.models import Like

    shopper, camera = UserFactory(), ProductFactory()
    Like.objects.create(user=shopper, content_type=_ct(camera), object_id=camera.pk)

    assert services.like_remove(user=shopper, obj=camera) is True
    assert not Event.objects.filter(kind="unlike").exists()


def _ct(obj):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(obj)
