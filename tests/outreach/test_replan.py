"""Shoppers who join a campaign's segment after it was planned get it too (until it ends),
each exactly once, under the same attention budget."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from personalization.outreach import planning, sending
from personalization.outreach.models import Campaign, OutreachDecision, OutreachMessage
from personalization.outreach.tasks import plan_due_campaigns

from .conftest import campaign, opted_in, segment_of

pytestmark = pytest.mark.django_db


def _planned(users, *, ends_in: timedelta | None, slug="target"):
    segment = segment_of(users, slug=slug)
    c = campaign([segment], picks=0)
    ends = timezone.now() + ends_in if ends_in is not None else None
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SCHEDULED, ends_at=ends)
    assert planning.campaign_plan(campaign_id=c.pk) == len(users)
    c.refresh_from_db()
    assert c.status == Campaign.Status.PLANNED
    return c, segment


def test_a_shopper_who_joins_before_the_end_is_planned_once_and_mailed_once(sink, budget):
    first = opted_in(2)
    c, segment = _planned(first, ends_in=timedelta(days=3))
    planned_at = c.planned_at
    assert sending.outbox_send_due() == {"sent": 2}
    (late,) = opted_in(1)
    segment_of([late], slug=segment.slug)  # the segment refresh let them in

    assert plan_due_campaigns() == 1  # the beat task: only the newcomer
    assert plan_due_campaigns() == 0  # and again: nothing twice
    row = OutreachMessage.objects.get(campaign=c, user=late)
    assert row.status == OutreachMessage.Status.PLANNED
    assert OutreachDecision.objects.filter(message=row).count() == 1
    c.refresh_from_db()
    assert c.planned_at == planned_at  # the campaign's first plan stays its plan date

    assert sending.outbox_send_due() == {"sent": 1}
    assert sending.outbox_send_due() == {}
    to = sorted(m["To"] for m in sink.messages())
    assert to == sorted(u.email for u in [*first, late])  # each shopper exactly once


def test_the_newcomer_is_held_by_the_budget_like_everyone(sink, budget):
    (member,) = opted_in(1)
    c, segment = _planned([member], ends_in=timedelta(days=3))
    (late,) = opted_in(1)
    other = campaign([segment_of([late], slug="other")], name="Other", picks=0)
    Campaign.objects.filter(pk=other.pk).update(status=Campaign.Status.SCHEDULED)
    assert planning.campaign_plan(campaign_id=other.pk) == 1  # the newcomer's slot today
    segment_of([late], slug=segment.slug)
    assert planning.replan_open_campaigns() == {c.pk: 1}
    row = OutreachMessage.objects.get(campaign=c, user=late)
    assert row.rule == "gap"  # deferred behind the other campaign's email
    assert row.slot_at >= OutreachMessage.objects.get(campaign=other).slot_at + timedelta(hours=24)
    assert planning.budget_violations() == 0


def test_no_newcomers_after_the_end_or_without_an_end(budget):
    ended, ended_segment = _planned(opted_in(1), ends_in=timedelta(seconds=1), slug="ended")
    closed, closed_segment = _planned(opted_in(1), ends_in=None, slug="closed")
    (late,) = opted_in(1)
    segment_of([late], slug=ended_segment.slug)
    segment_of([late], slug=closed_segment.slug)
    later = timezone.now() + timedelta(minutes=1)
    assert planning.campaign_plan(campaign_id=ended.pk, now=later) == 0
    assert planning.campaign_plan(campaign_id=closed.pk) == 0
    assert planning.replan_open_campaigns(now=later) == {}
    assert not OutreachMessage.objects.filter(user=late).exists()
    # Open again, the same newcomer is added: the test can fail.
    Campaign.objects.filter(pk=ended.pk).update(ends_at=later + timedelta(days=1))
    assert planning.replan_open_campaigns(now=later) == {ended.pk: 1}


def test_a_campaign_cannot_end_before_it_starts(budget):
    c = campaign([segment_of(opted_in(1))], picks=0)
    c.send_at = timezone.now() + timedelta(days=2)
    c.ends_at = c.send_at - timedelta(hours=1)
    with pytest.raises(ValidationError, match="end after it starts"):
        c.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        c.save()
