"""A merge moves rows with ``QuerySet.update`` (no signals): the kept shopper's cached signed-in
pages must go too, or they keep showing the cart count and likes from before (issue 15
leftover 4)."""

import pytest
from django.core.cache import cache

from crm import merging
from shop import signed
from shop.models import Cart
from tests.crm.helpers import staff
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_merge_forgets_the_kept_shoppers_cached_pages(django_capture_on_commit_callbacks):
    keep = UserFactory(first_name="Ana")
    drop = UserFactory(first_name="Ana")
    Cart.objects.create(user=drop)  # moves to ``keep`` by update: no post_save for it
    for user in (keep, drop):
        assert signed._user_version_create(user.pk) is not None
    key = signed.USER_VERSION_KEY.format(keep.pk)
    assert cache.get(key) is not None

    with django_capture_on_commit_callbacks(execute=False):
        moved = merging.customer_merge(keep=keep, drop=drop, actor=staff())

    assert moved.get("shop.Cart.user") == 1
    assert Cart.objects.filter(user=keep).exists()
    assert cache.get(key) is None  # the kept shopper's pages are rendered again
    assert cache.get(signed.USER_VERSION_KEY.format(drop.pk)) is None
