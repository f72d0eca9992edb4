"""The engagement demo seed is idempotent even after the CRM seed adds its duplicate shopper
("shopper07-old"): a second ``make run`` adds no likes or follows (it added ~450 likes)."""

import io

import pytest

from social.engagement.demo import seed
from social.engagement.models import Like
from social.models import Connection
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_second_seed_after_the_crm_duplicate_adds_nothing():
    for n in range(1, 9):
        UserFactory(username=f"shopper{n:02d}", email=f"shopper{n:02d}@agora.test")
    for _ in range(40):
        ProductFactory()
    seed(stdout=io.StringIO())
    likes, edges = Like.objects.count(), Connection.objects.count()
    assert likes > 0 and edges > 0, "the first run seeded likes and follows"
    UserFactory(username="shopper07-old", email="shopper07+old@agora.test")  # as crm.demo does
    seed(stdout=io.StringIO())
    assert (Like.objects.count(), Connection.objects.count()) == (likes, edges)
