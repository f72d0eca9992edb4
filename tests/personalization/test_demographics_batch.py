"""A full build refreshes every shopper's consented demographics in a few queries per 1,000
shoppers (``consent.refresh_demographics``), not four queries per shopper, and each shopper
gets what ``demographics_for`` gives them alone."""

import pytest
from allauth.socialaccount.models import SocialAccount
from django.db import connection
from django.test.utils import CaptureQueriesContext

from personalization.consent import demographics_for, refresh_demographics
from personalization.models import PreferenceProfile, RemovedInterest
from social import consent
from social.models import Connection, ConsentRecord, SocialProfile
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _sharing(n, *, start=0):
    shoppers = []
    for i in range(start, start + n):
        user = UserFactory()
        SocialAccount.objects.create(user=user, provider="friendbook", uid=f"fb-{i}")
        SocialProfile.objects.create(
            user=user,
            provider="friendbook",
            age_band="25-34",
            gender="female" if i % 2 else "male",
            birthday_month=1 + i % 12,
            birthday_day=1 + i % 28,
            interests=["Running", "coffee", f"topic {i}"],
        )
        granted = [consent.BASIC, consent.AGE, consent.INTERESTS, consent.FRIENDS]
        if i % 3 == 0:
            granted.append(consent.GENDER)
        for category in granted:
            ConsentRecord.objects.create(
                user=user,
                category=category,
                action="granted",
                source="permission_screen",
                policy_version="1",
            )
        if i % 4 == 0:  # a revoke after the grant wins
            ConsentRecord.objects.create(
                user=user,
                category=consent.AGE,
                action="revoked",
                source="privacy_page",
                policy_version="1",
            )
        if i % 5 == 0:
            RemovedInterest.objects.create(user=user, dimension="interest", value="coffee")
        shoppers.append(user)
    for a, b in zip(shoppers, shoppers[1:], strict=False):
        Connection.objects.create(follower=a, followed=b, kind=Connection.Kind.FRIEND)
    return shoppers


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as queries:
        fn()
    return len(queries)


def test_each_shopper_gets_what_they_alone_would_and_queries_do_not_grow_with_shoppers():
    few = _sharing(3)
    changed = refresh_demographics(user_ids=None)
    assert changed == {u.pk for u in few}, "the first refresh stores every shopper's data"
    for user in few:
        stored = PreferenceProfile.objects.get(user=user).demographics
        assert stored == demographics_for(user) and stored, user
    assert "age_band" not in PreferenceProfile.objects.get(user=few[0]).demographics  # revoked
    assert "coffee" not in PreferenceProfile.objects.get(user=few[0]).demographics["interests"]
    unchanged_few = _queries(lambda: refresh_demographics(user_ids=None))

    many = _sharing(30, start=3)
    assert refresh_demographics(user_ids=None) == {u.pk for u in many}
    unchanged_many = _queries(lambda: refresh_demographics(user_ids=None))
    assert refresh_demographics(user_ids=None) == set()
    # the same handful of reads for 33 shoppers as for 3 (four a shopper before)
    assert unchanged_many == unchanged_few <= 10, (unchanged_few, unchanged_many)


def test_changed_demographics_are_written_in_the_same_few_queries_for_3_or_30_shoppers():
    """The writes are batched too: one UPDATE per 1,000 changed profiles, one INSERT per 1,000
    new ones (a full build once spent 18 s writing 36,665 changed profiles one at a time)."""
    few = _sharing(3)
    many = _sharing(30, start=3)
    refresh_demographics(user_ids=None)
    assert PreferenceProfile.objects.count() == 33  # precondition: all created, in bulk

    for group in (few, many):  # every one of them now lists a new interest
        SocialProfile.objects.filter(user__in=group).update(interests=["Hiking"])
    with CaptureQueriesContext(connection) as small:
        assert refresh_demographics(user_ids=[u.pk for u in few]) == {u.pk for u in few}
    with CaptureQueriesContext(connection) as big:
        assert refresh_demographics(user_ids=[u.pk for u in many]) == {u.pk for u in many}

    assert len(big) == len(small) <= 10, (len(small), len(big))
    for user in few + many:
        stored = PreferenceProfile.objects.get(user=user).demographics
        assert stored == demographics_for(user) and stored["interests"] == ["hiking"], user
