"""Profile builds: what goes in, incremental == full, idempotence, consent and choices."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from personalization import building, events, services
from personalization.models import (
    Event,
    PreferenceProfile,
    ProfileBuildRun,
    ProfileBuildState,
    RemovedInterest,
)
from personalization.selectors import profile_for
from tests.factories import UserFactory

from .helpers import activity, assert_same_profiles, catalogue, snapshot

# transaction=True: builds and choices forget cached profiles and enqueue rebuilds on commit.
pytestmark = pytest.mark.django_db(transaction=True)


def test_profile_holds_weighted_affinities_rfm_sentiment_and_intents():
    shoe, bag, camera = products = catalogue()
    user = UserFactory()
    activity(user, products)

    services.profile_build_incremental()

    stored = PreferenceProfile.objects.get(user=user)
    assert stored.event_count == 9
    assert stored.order_count == 1  # two lines of one order
    assert stored.monetary == shoe.price + bag.price
    assert stored.sentiment_count == 1 and stored.sentiment_sum == pytest.approx(0.5)
    profile = profile_for(user)
    # shoe: 2 views + cart + purchase beats camera: view + like, beats bag: view + purchase? no:
    # weights purchase 10 > cart 5 > like 3 > view 1, so shoe 17, bag 11, camera 4.
    assert profile.top("category") == [str(shoe.category_id), str(bag.category_id)] + [
        str(camera.category_id)
    ]
    scores = {i.value: i.score for i in profile.interests["category"]}
    assert scores[str(shoe.category_id)] / scores[str(camera.category_id)] == pytest.approx(17 / 4)
    assert profile.top("size") == ["42"]  # only the cart add names a variant
    assert profile.top("colour", 1) == ["blue"]
    assert set(profile.top("price_band", 3)) == {"premium", "budget", "luxury"}
    assert profile.frequency == 1 and profile.lifetime_value == float(shoe.price + bag.price)
    assert profile.recency_days == 0
    assert profile.average_sentiment == pytest.approx(0.5)
    assert [(i.intent, i.category_id) for i in profile.intents] == [
        ("replacement", shoe.category_id)
    ]


def test_old_events_count_less_by_the_half_life(settings):
    settings.PERSONALIZATION_HALF_LIFE_DAYS = 10
    shoe, bag, _ = catalogue()
    user = UserFactory()
    now = timezone.now()
    events.record(Event.Kind.VIEW, user=user, product=shoe, occurred_at=now)
    events.record(Event.Kind.VIEW, user=user, product=bag, occurred_at=now - timedelta(days=10))

    services.profile_build_full()

    scores = {i.value: i.score for i in profile_for(user).interests["brand"]}
    assert scores[str(bag.brand_id)] / scores[str(shoe.brand_id)] == pytest.approx(0.5)


def test_incremental_builds_equal_one_full_rebuild():
    products = catalogue()
    alice, bob = UserFactory(), UserFactory()
    activity(alice, products, days_ago=40, order="A1")
    services.profile_build_incremental()
    activity(bob, products, days_ago=3, order="B1")
    activity(alice, products, days_ago=1, order="A2")
    services.profile_build_incremental()
    events.record_text_signal(user=bob, sentiment=-2, intent="gift", expires_at=timezone.now())
    services.profile_build_incremental()
    incremental = snapshot()

    services.profile_build_full()

    assert_same_profiles(incremental, snapshot())
    assert incremental[alice.pk]["order_count"] == 2
    assert incremental[bob.pk]["sentiment_sum"] == pytest.approx(0.5 - 1)  # clamped to -1


@pytest.mark.postgres
def test_set_based_sql_agrees_with_the_python_twin():
    products = catalogue()
    users = [UserFactory() for _ in range(3)]
    for n, user in enumerate(users):
        activity(user, products, days_ago=n * 7, order=f"O{n}")
    events.record(Event.Kind.TEXT_SIGNAL, user=users[0], sentiment=10**400, intent="x")
    events.record(Event.Kind.TEXT_SIGNAL, user=users[1], intent="y", expires_at="2026-13-45")
    events.record(Event.Kind.ADD_TO_CART, user=users[2], product=products[0], variant="nope")
    services.profile_build_full()  # the SQL path on PostgreSQL
    hi = ProfileBuildState.objects.get().watermark

    expected = building.aggregate_python(lo=0, hi=hi)

    stored = {p.user_id: p for p in PreferenceProfile.objects.all()}
    assert stored.keys() == expected.keys()
    for user_id, agg in expected.items():
        profile = stored[user_id]
        assert profile.event_count == agg.event_count
        assert profile.order_count == len(agg.orders)
        assert profile.monetary == agg.monetary
        assert profile.intents == agg.intents
        assert profile.sentiment_sum == pytest.approx(agg.sentiment_sum)
        assert profile.affinities.keys() == agg.affinities.keys()
        for key, raw in agg.affinities.items():
            assert profile.affinities[key] == pytest.approx(raw, rel=1e-12)


def test_duplicate_run_and_retry_change_nothing():
    products = catalogue()
    user = UserFactory()
    activity(user, products)
    first = services.profile_build_incremental()
    once = snapshot()

    again = services.profile_build_incremental()
    services.profile_build_incremental()

    assert not first.skipped and again.skipped
    assert snapshot() == once
    assert ProfileBuildRun.objects.filter(mode="incremental").count() == 1


class WorkerDied(Exception):
    pass


def test_a_build_that_dies_before_commit_leaves_nothing_behind():
    products = catalogue()
    user = UserFactory()
    activity(user, products, days_ago=5)
    services.profile_build_incremental()
    before, watermark = snapshot(), ProfileBuildState.objects.get().watermark
    activity(user, products, order="A2")

    with pytest.raises(WorkerDied), transaction.atomic():
        services.profile_build_incremental()
        assert PreferenceProfile.objects.get(user=user).event_count == 18  # written...
        raise WorkerDied  # ...but the worker dies before the commit

    assert snapshot() == before
    assert ProfileBuildState.objects.get().watermark == watermark
    services.profile_build_incremental()  # the redelivered task
    after_retry = snapshot()
    services.profile_build_full()
    assert_same_profiles(after_retry, snapshot())
    assert after_retry[user.pk]["event_count"] == 18


def test_removed_interest_stays_removed_across_builds(client):
    shoe, bag, camera = products = catalogue()
    user = UserFactory()
    activity(user, products)
    services.profile_build_incremental()
    key = str(shoe.brand_id)
    assert key in profile_for(user).top("brand", 5)

    services.interest_remove(user=user, dimension="brand", value=key)

    assert key not in profile_for(user).top("brand", 5)
    activity(user, products, order="A2")
    services.profile_build_incremental()
    assert key not in profile_for(user).top("brand", 5)
    services.profile_build_full()
    services.profile_rebuild_for_user(user_id=user.pk)
    assert f"brand:{key}" not in PreferenceProfile.objects.get(user=user).affinities
    assert str(bag.brand_id) in profile_for(user).top("brand", 5)

    services.interest_restore(user=user, dimension="brand", value=key)  # rebuilds (eager)

    assert key in profile_for(user).top("brand", 5)


def test_turning_personalization_off_deletes_and_stops_the_profile():
    products = catalogue()
    user, other = UserFactory(), UserFactory()
    activity(user, products)
    activity(other, products)
    services.profile_build_incremental()
    assert profile_for(user) is not None

    services.personalization_set_enabled(user=user, enabled=False)

    assert profile_for(user) is None
    assert not PreferenceProfile.objects.filter(user=user).exists()
    activity(user, products, order="A2")
    services.profile_build_incremental()
    services.profile_build_full()
    assert not PreferenceProfile.objects.filter(user=user).exists()
    assert profile_for(user) is None and profile_for(other) is not None

    services.personalization_set_enabled(user=user, enabled=True)  # rebuild runs eagerly

    assert profile_for(user).event_count == 18


def test_malformed_text_signals_do_not_break_the_build():
    user = UserFactory()
    for attributes in [
        {"sentiment": "great", "intent": 5},
        {"sentiment": True, "intent": "gift", "expires_at": "soon", "category_id": "x"},
        {"sentiment": 0.2, "intent": "gift", "expires_at": "2020-01-01T00:00:00+00:00"},
    ]:
        events.record(Event.Kind.TEXT_SIGNAL, user=user, **attributes)

    services.profile_build_full()

    profile = profile_for(user)
    assert profile.average_sentiment == pytest.approx(0.2)
    [intent] = profile.intents  # "soon" fell back to the default lifetime; 2020 has expired
    assert intent.intent == "gift" and intent.category_id is None
    assert intent.expires_at > timezone.now() + timedelta(days=29)


def share(user, *categories):
    """Sign in with Friendbook sharing ``categories``, as the permission screen does."""
    from social.services import consent_apply_sign_in

    consent_apply_sign_in(
        user=user,
        provider="friendbook",
        granted=set(categories),
        profile={
            "age_band": "25-34",
            "gender": "female",
            "relationship_status": "married",
            "interests": ["Hiking", "hiking", "Photography"],
        },
    )


def test_a_shopper_who_shares_nothing_has_no_demographics():
    from personalization.consent import demographics_for

    user = UserFactory()
    assert demographics_for(user) == {}
    share(user)  # basic profile only
    assert demographics_for(user) == {}


def test_demographics_only_from_granted_categories_and_gone_after_revoke(
    django_capture_on_commit_callbacks,
):
    from social.services import consent_revoke

    products = catalogue()
    user = UserFactory()
    activity(user, products)
    with django_capture_on_commit_callbacks(execute=True):  # the sign-in queues a rebuild
        share(user, "age", "interests")

    profile = profile_for(user)
    assert profile.demographics == {"age_band": "25-34"}
    assert [i.value for i in profile.interests["interest"]] == ["hiking", "photography"]
    services.interest_remove(user=user, dimension="interest", value="hiking")
    services.profile_build_full()
    assert [i.value for i in profile_for(user).interests["interest"]] == ["photography"]

    with django_capture_on_commit_callbacks(execute=True):  # the revoke queues a rebuild
        consent_revoke(user=user, category="age")
        consent_revoke(user=user, category="interests")

    stored = PreferenceProfile.objects.get(user=user)
    assert stored.demographics == {}
    assert profile_for(user).demographics == {} and "interest" not in profile_for(user).interests
    assert stored.event_count == 9  # behaviour stays


def test_cached_profile_read_costs_no_query(django_assert_num_queries):
    products = catalogue()
    user = UserFactory()
    activity(user, products)
    services.profile_build_incremental()
    profile_for(user)

    with django_assert_num_queries(0):
        cached = profile_for(user)

    assert cached.event_count == 9
    activity(user, products, order="A2")
    services.profile_build_incremental()  # forgets the cached entry on commit
    assert profile_for(user).event_count == 18


def test_removed_interests_are_validated():
    user = UserFactory()
    from personalization.exceptions import PersonalizationError

    with pytest.raises(PersonalizationError):
        services.interest_remove(user=user, dimension="password", value="x")
    with pytest.raises(PersonalizationError):
        services.interest_remove(user=user, dimension="brand", value="")
    assert not RemovedInterest.objects.exists()


def test_retention_purges_only_raw_events_older_than_the_limit(settings):
    from personalization.tasks import purge_old_events

    products = catalogue()
    user = UserFactory()
    activity(user, products, days_ago=40, order="OLD")
    activity(user, products, days_ago=1, order="NEW")
    services.profile_build_incremental()
    settings.PERSONALIZATION_EVENT_RETENTION_DAYS = None
    assert purge_old_events.delay().get() == 0 and Event.objects.count() == 18

    settings.PERSONALIZATION_EVENT_RETENTION_DAYS = 30
    assert purge_old_events.delay().get() == 9

    cutoff = timezone.now() - timedelta(days=30)
    assert Event.objects.count() == 9
    assert not Event.objects.filter(occurred_at__lt=cutoff).exists()
    assert PreferenceProfile.objects.get(user=user).event_count == 18  # until a full rebuild
    services.profile_build_full()
    assert PreferenceProfile.objects.get(user=user).event_count == 9
