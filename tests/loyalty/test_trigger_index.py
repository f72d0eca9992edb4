"""The replacement-intent trigger's query can use its partial indexes (reviews and forum posts
with a replacement intent, by date): without them it reads both tables whole."""

from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.utils import timezone

from personalization.loyalty.triggers import ReplacementIntent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_the_replacement_intent_query_uses_its_indexes():
    assert connection.vendor == "postgresql", "the indexes are PostgreSQL's"
    sql, params = ReplacementIntent().select(SimpleNamespace(threshold=30), now=timezone.now())
    with transaction.atomic(), connection.cursor() as cursor:
        # Tiny test tables make a sequential scan cheapest; forbid it to see whether the
        # partial indexes match the query's predicates at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "review_replacement_recent" in plan, plan
    assert "post_replacement_recent" in plan, plan
