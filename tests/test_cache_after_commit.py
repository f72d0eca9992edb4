"""``config.aftercommit``: read-through cache fills wait for the transaction they ran in."""

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import TestCase

from config.aftercommit import cache_fill, cache_fill_many, in_transaction

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
