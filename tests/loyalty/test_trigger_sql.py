"""Every trigger says its rule twice (issue 10): ``select``, the SQL the earning run uses on
PostgreSQL, and ``candidates``, the Python the embedded demo (SQLite) uses. On the same data
both must find the same shoppers, occasions, reasons, conditions and facts."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from personalization.loyalty.models import EarnRule, Trigger
from personalization.loyalty.services import loyalty_refresh
from personalization.loyalty.triggers import TRIGGERS
from personalization.outreach.models import Subscriber
from personalization.outreach.services import preferences_update
from social.services import consent_apply_sign_in, consent_revoke
from tests.community_factories import IntentRuleFactory, OldUserFactory
from tests.factories import CategoryFactory, ProductFactory, UserFactory
from tests.loyalty.conftest import buy
from tests.loyalty_factories import EarnRuleFactory, TierFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

# 23:30 UTC: already the next day in Auckland and Berlin, not in Los Angeles
NOW = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)


def _rows(trigger, rule) -> set[tuple]:
    sql, params = trigger.select(rule, now=NOW)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            (owner, occasion, reason, _json(facts), _json(conditions))
            for owner, occasion, reason, facts, conditions in cursor.fetchall()
        }


def _json(value) -> str:
    value = json.loads(value) if isinstance(value, str) else value
    return json.dumps(value, sort_keys=True)


def _python(trigger, rule) -> set[tuple]:
    return {
        (c.user_id, c.occasion, c.reason, _json(c.facts), _json(c.conditions))
        for c in trigger.candidates(rule, now=NOW)
    }


def _shopper_with_birthday(*, zone=None, month=3, day=10, revoke=False):
    user = UserFactory()
    if zone:
        preferences_update(
            user=user, opted_in=False, muted_topics=set(), frequency="normal", time_zone=zone
        )
    consent_apply_sign_in(
        user=user,
        provider="friendbook",
        granted=["birthday"],
        profile={"birthday_month": month, "birthday_day": day},
    )
    if revoke:
        consent_revoke(user=user, category="birthday")
    return user


def test_each_triggers_sql_finds_what_its_python_finds(
    shipping, django_capture_on_commit_callbacks
):
    from social.forums.models import Post
    from social.forums.services import topic_create
    from social.reviews.services import review_create
    from tests.community_factories import ForumCategoryFactory

    silver = TierFactory(name="Silver", slug="silver", position=2, min_spend=50, min_orders=1)
    EarnRuleFactory(trigger="tier_reached", tier=silver)
    EarnRuleFactory(trigger="nth_order", threshold=2)
    EarnRuleFactory(trigger="spend_threshold", threshold=Decimal("60.50"))
    EarnRuleFactory(trigger="win_back", threshold=90)  # "4 months"
    EarnRuleFactory(trigger="win_back", threshold=30)  # "40 days" (under two months)
    EarnRuleFactory(trigger="birthday", threshold=1)
    EarnRuleFactory(trigger="replacement_intent", threshold=30)

    exact, more, lapsed = UserFactory(), UserFactory(), UserFactory()
    for at in (NOW - timedelta(days=50), NOW - timedelta(days=40)):
        buy(user=exact, shipping=shipping, price="40.00", placed_at=at)
    for _ in range(3):
        buy(user=more, shipping=shipping, placed_at=NOW - timedelta(days=5))
    buy(user=lapsed, shipping=shipping, placed_at=NOW - timedelta(days=130, seconds=7))
    loyalty_refresh(now=NOW)

    _shopper_with_birthday(zone="Pacific/Auckland")  # 9 March there: tomorrow is the 10th
    _shopper_with_birthday(zone="America/Los_Angeles")  # still 8 March: two days off
    _shopper_with_birthday(zone="Europe/Berlin", month=3, day=9)  # today
    stale = _shopper_with_birthday(zone="Europe/Lisbon")
    # a zone name neither Python nor PostgreSQL knows (saved before validation): the store's
    Subscriber.objects.filter(user=stale).update(time_zone="Mars/Olympus")
    _shopper_with_birthday(revoke=True)  # consent withdrawn: never

    blenders = CategoryFactory(name="Blenders", slug="blenders")
    IntentRuleFactory(phrase="broke my", category=blenders)
    with django_capture_on_commit_callbacks(execute=True):
        review_create(
            user=UserFactory(),
            product=ProductFactory(),
            rating=2,
            title="Sad",
            body="My kid broke my blender while making tea.",
        )
        topic = topic_create(
            user=OldUserFactory(),
            category=ForumCategoryFactory(),
            title="My blender is gone",
            body="The dog broke my blender again",
        )
    post = Post.objects.filter(topic=topic).get()
    assert post.intents, "precondition: the text signal read the forum post"
    # written the way older analyses stored them: a quote not starting with the phrase, the
    # same category twice, another intent
    from social.forums.services import post_create

    odd = post_create(user=OldUserFactory(), topic_id=topic.pk, body="Any ideas, anyone?")
    Post.objects.filter(pk=odd.pk).update(
        created_at=NOW - timedelta(days=2),
        intents=[
            {"intent": "question", "category_id": blenders.pk, "category": "Blenders"},
            {
                "intent": "replacement",
                "category_id": blenders.pk,
                "category": "Blenders",
                "phrase": "broke my",
                "matched": "  my MIXER broke ",
            },
            {
                "intent": "replacement",
                "category_id": blenders.pk,
                "category": "Blenders",
                "phrase": "broke my",
                "matched": "broke my jug",
            },
        ],
    )

    found = {}
    for rule in EarnRule.objects.select_related("tier"):
        trigger = TRIGGERS[rule.trigger]
        in_python = _python(trigger, rule)
        assert _rows(trigger, rule) == in_python, rule.name
        found.setdefault(rule.trigger, set()).update(in_python)

    assert set(found) == {str(t) for t in TRIGGERS}, "every trigger had shoppers to find"
    reasons = {row[2] for rows in found.values() for row in rows}
    assert {
        "Because this is your 2nd order",
        "Because you have placed 2 orders with us",
        "We miss you: it has been 4 months since your last order",
        "We miss you: it has been 40 days since your last order",
        'We read in your forum post that you need a new blenders ("my MIXER broke")',
    } <= reasons
    birthdays = {row[1] for row in found["birthday"]}
    assert len(found["birthday"]) == 3 and birthdays == {"birthday:2026"}


def test_a_rule_without_a_tier_or_threshold_finds_nobody(shipping):
    buy(user=UserFactory(), shipping=shipping)
    loyalty_refresh(now=NOW)
    for trigger, kwargs in [
        (Trigger.TIER_REACHED, {"tier": None}),
        (Trigger.NTH_ORDER, {"threshold": 0}),
        (Trigger.SPEND_THRESHOLD, {"threshold": 0}),
    ]:
        rule = EarnRuleFactory(trigger=trigger, **kwargs)
        assert _rows(TRIGGERS[trigger], rule) == _python(TRIGGERS[trigger], rule) == set()
