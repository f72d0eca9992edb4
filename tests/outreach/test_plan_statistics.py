"""A large plan refreshes the outbox's planner statistics in its own transaction: planned right
after one (before autovacuum), the next campaign's statement took the outbox for empty and
joined every candidate to every message in nested loops (100,000 shoppers: minutes, not ~30 s).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from personalization.outreach import planning
from personalization.outreach.models import Campaign, OutreachMessage

from .conftest import campaign, opted_in, segment_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _reltuples() -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
            [OutreachMessage._meta.db_table],
        )
        return cursor.fetchone()[0]


def _plan(users, *, slug):
    c = campaign([segment_of(users, slug=slug)], name=slug, picks=0)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SCHEDULED)
    with CaptureQueriesContext(connection) as queries:
        added = planning.campaign_plan(campaign_id=c.pk)
    analyzed = [q for q in queries if q["sql"].startswith("ANALYZE outreach_outreachmessage")]
    return added, len(analyzed)


def test_a_plan_above_the_threshold_analyzes_the_outbox_and_a_small_one_does_not(
    budget, monkeypatch
):
    monkeypatch.setattr(planning, "ANALYZE_AFTER", 3)
    assert OutreachMessage.objects.count() == 0

    assert _plan(opted_in(2), slug="small") == (2, 0)
    assert _plan(opted_in(5), slug="large") == (5, 1)

    assert _reltuples() == 7, "the planner now counts every outbox row, this plan's too"
