"""``config.aftercommit``: read-through cache fills wait for the transaction they ran in."""

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import TestCase

from config.aftercommit import cache_fill, cache_fill_many, in_transaction
from conftest import clear_test_cache

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def test_outside_code_transactions_a_fill_is_stored_at_once():
    # The test's own transaction stands for autocommit: it never commits.
    assert transaction.get_connection().in_atomic_block and not in_transaction()
    cache_fill("ac:now", 1, 60)
    cache_fill_many({"ac:m1": 1, "ac:m2": 2}, 60)
    assert cache.get_many(["ac:now", "ac:m1", "ac:m2"]) == {"ac:now": 1, "ac:m1": 1, "ac:m2": 2}


def test_a_fill_in_a_rolled_back_transaction_is_never_stored():
    with (
        TestCase.captureOnCommitCallbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        assert in_transaction()
        cache_fill("ac:gone", 1, 60)
        cache_fill_many({"ac:gone2": 2}, 60)
        assert cache.get("ac:gone") is None  # waits for the commit
        raise Boom
    assert callbacks == []
    assert cache.get_many(["ac:gone", "ac:gone2"]) == {}


def test_a_fill_is_stored_when_its_transaction_commits_not_before():
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks, transaction.atomic():
        cache_fill("ac:later", 1, 60)
        assert cache.get("ac:later") is None
    assert len(callbacks) == 1
    assert cache.get("ac:later") == 1


def test_a_fill_in_a_rolled_back_savepoint_is_dropped_and_the_rest_kept():
    with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
        cache_fill("ac:kept", 1, 60)
        with pytest.raises(Boom), transaction.atomic():
            cache_fill("ac:dropped", 2, 60)
            raise Boom
    assert cache.get("ac:kept") == 1 and cache.get("ac:dropped") is None


def _category():
    from shop.selectors import category_tree
    from tests.factories import CategoryFactory

    def write():
        CategoryFactory(name="Rolled Back")

    def seen():
        return any(node.name == "Rolled Back" for node in category_tree().nodes.values())

    return write, seen


def _segment():
    from personalization.segments.models import Segment, SegmentMembership
    from personalization.segments.selectors import segment_ids_for_user
    from tests.factories import UserFactory

    shopper = UserFactory()

    def write():
        segment = Segment.objects.create(slug="rolled-back", name="Rolled back")
        SegmentMembership.objects.create(segment=segment, user=shopper)

    def seen():
        return bool(segment_ids_for_user(shopper))

    return write, seen


def _webhooks():
    from webhooks.models import WebhookEndpoint
    from webhooks.services import subscribed_events

    def write():
        WebhookEndpoint.objects.create(url="https://hooks.example.test/", events=["order.paid"])

    def seen():
        return "order.paid" in subscribed_events()

    return write, seen


def _store_accounts():
    from social.engagement.models import StoreSocialAccount
    from social.engagement.selectors import store_social_accounts

    def write():
        StoreSocialAccount.objects.create(
            network="instagram", label="@gone", url="https://instagram.example.test/gone"
        )

    def seen():
        return any(account.label == "@gone" for account in store_social_accounts())

    return write, seen


@pytest.mark.parametrize("case", [_category, _segment, _webhooks, _store_accounts])
def test_read_through_caches_keep_nothing_read_in_a_rolled_back_transaction(case):
    """The same mistake in every read-through cache: a value computed inside a transaction
    (here from a row it wrote) must not be cached if that transaction rolls back."""
    write, seen = case()
    assert not seen()
    clear_test_cache()  # cold again: the read inside the transaction is the one that fills
    with (
        TestCase.captureOnCommitCallbacks(execute=True),
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        write()
        assert seen()  # inside, the fresh value is returned
        raise Boom
    assert not seen()


def _catalogue():
    from shop.selectors import CATEGORY_TREE_KEY
    from shop.services import catalogue_changed

    return CATEGORY_TREE_KEY, catalogue_changed


def _unread():
    from social.forums.notifications import _key, unread_count_changed

    return _key(7), lambda: unread_count_changed([7])


def _intent_rules():
    from social.textsignals.selectors import RULES_KEY
    from social.textsignals.services import rules_changed

    return RULES_KEY, rules_changed


def _store_accounts_changed():
    from social.engagement.selectors import STORE_ACCOUNTS_CACHE_KEY
    from social.engagement.services import store_accounts_changed

    return STORE_ACCOUNTS_CACHE_KEY, store_accounts_changed


@pytest.mark.parametrize("case", [_catalogue, _unread, _intent_rules, _store_accounts_changed])
def test_a_forget_inside_a_transaction_also_drops_what_was_cached_before_the_commit(case):
    """Another process that reads between the service's forget and its commit sees the old
    rows and caches them; the forget runs again after the commit and drops that."""
    key, changed = case()
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks, transaction.atomic():
        changed()
        cache.set(key, "read by another process before the commit", 600)
    assert callbacks, "the forget waits for the commit too"
    assert cache.get(key) is None
