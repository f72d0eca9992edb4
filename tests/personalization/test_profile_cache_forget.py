"""A profile build forgets, in one Redis call, every per-shopper cache the profile feeds.

The keys of the shoppers it changed (their profile, picks, picks fragment and signed-in page
version) go, each with a lease; another shopper's stay. One ``cache_forget`` for all of them:
three calls, one per feature, cost 40-70 ms after an incremental build of 10,000 events.
"""

import pytest
from django.core.cache import cache

import config.aftercommit
from personalization import building
from personalization.recommendations.selectors import FRAGMENT_KEY, USER_KEY
from personalization.selectors import CACHE_KEY, profile_cache_forget
from shop.signed import USER_VERSION_KEY
from tests.factories import UserFactory

from .helpers import activity, catalogue

pytestmark = pytest.mark.django_db(transaction=True)

FAMILIES = (CACHE_KEY, USER_KEY, FRAGMENT_KEY, USER_VERSION_KEY)


def keys_of(user) -> list[str]:
    return [family.format(user.pk) for family in FAMILIES]


@pytest.fixture
def forget_calls(monkeypatch):
    calls = []
    real = config.aftercommit.cache_forget

    def counting(keys, **kwargs):
        keys = list(keys)
        calls.append(keys)
        return real(keys, **kwargs)

    monkeypatch.setattr(config.aftercommit, "cache_forget", counting)
    return calls


def test_a_build_forgets_every_cache_of_the_shoppers_it_changed_in_one_call(forget_calls):
    products = catalogue()
    ana, bo = UserFactory(), UserFactory()
    activity(ana, products)
    building.build_full()  # both start from a built state: only ana has events
    for user in (ana, bo):
        cache.set_many(dict.fromkeys(keys_of(user), "cached"), 600)
    assert len(cache.get_many(keys_of(ana) + keys_of(bo))) == 8  # precondition
    forget_calls.clear()

    activity(ana, products, order="A2")  # new events for ana only
    result = building.build_incremental()

    assert result.changed_user_ids == [ana.pk]
    assert cache.get_many(keys_of(ana)) == {}
    assert len(cache.get_many(keys_of(bo))) == 4  # another shopper's caches stay
    assert len(forget_calls) == 1 and sorted(forget_calls[0]) == sorted(keys_of(ana))


def test_the_forget_of_a_shopper_s_choice_names_the_same_keys(forget_calls):
    ana = UserFactory()
    cache.set_many(dict.fromkeys(keys_of(ana), "cached"), 600)
    profile_cache_forget(user_ids=[ana.pk])
    assert cache.get_many(keys_of(ana)) == {}
    assert [sorted(keys) for keys in forget_calls] == [sorted(keys_of(ana))]
