"""Erasing a shopper refreshes every cached place that showed them, also where the rows
change without a save or delete signal (issue 15 leftover 4): a review kept as "Former
member" (its JSON-LD names the author), questions and answers kept the same way, and helpful
counts lowered by ``QuerySet.update`` when the shopper's votes go."""

import json

import pytest
from django.core.cache import cache
from django.test import TestCase

from privacy.erasure import erase_personal_data
from privacy.registry import ErasureOptions
from shop import pagecache
from social.reviews import selectors, services
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_kept_review_loses_its_erased_authors_name_from_the_cached_json_ld(settings):
    settings.AGORA_REVIEWS_AUTO_APPROVE = "all"
    product = ProductFactory()
    author = UserFactory(first_name="Quentinella")
    services.review_create(user=author, product=product, rating=5, title="Great", body="x" * 30)
    product.refresh_from_db()
    assert "Quentinella" in json.dumps(selectors.review_schema(product))  # cached now
    assert "Quentinella" in json.dumps(selectors.review_schema(product))  # from the cache

    with TestCase.captureOnCommitCallbacks(execute=True):
        erase_personal_data(user=author, options=ErasureOptions(keep_content=True))

    product.refresh_from_db()
    schema = json.dumps(selectors.review_schema(product))
    assert "Quentinella" not in schema and "Great" in schema  # kept, without the name


def test_erasing_a_voter_gives_the_store_pages_a_new_version(settings):
    settings.AGORA_REVIEWS_AUTO_APPROVE = "all"
    product = ProductFactory()
    review = services.review_create(
        user=UserFactory(), product=product, rating=4, title="Fine", body="y" * 30
    )
    voter = UserFactory()
    assert services.review_vote_helpful(user=voter, review_id=review.pk) == 1
    with TestCase.captureOnCommitCallbacks(execute=True):
        pagecache.storefront_changed()  # settle the vote's own bump first
    before = cache.get(pagecache.VERSION_KEY)
    assert before is not None

    with TestCase.captureOnCommitCallbacks(execute=True):
        erase_personal_data(user=voter, options=ErasureOptions())

    review.refresh_from_db()
    assert review.helpful_count == 0
    assert cache.get(pagecache.VERSION_KEY) != before  # the "1 found this helpful" page goes
