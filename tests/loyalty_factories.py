"""Factories for loyalty tests. Coupons are made through the service, as staff would."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from personalization.loyalty.models import EarnRule, Tier
from personalization.loyalty.services import coupon_issue


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier
        django_get_or_create = ["slug"]

    name = "Silver"
    slug = factory.LazyAttribute(lambda t: t.name.lower())
    position = 2
    min_spend = Decimal("100.00")
    min_orders = 2
    benefits = "Nice things."


class EarnRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EarnRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    trigger = "nth_order"
    threshold = Decimal("2")
    benefit_type = "percentage"
    benefit_value = Decimal("10")
    valid_days = 30


def make_coupon(**overrides):
    """A shared public code (10% off, once per shopper) unless ``overrides`` say otherwise."""
    spec = {
        "reason": "A test offer",
        "benefit_type": "percentage",
        "benefit_value": Decimal("10"),
        "code": "SAVE10",
        "kind": "shared",
        "max_uses": None,
        "max_uses_per_shopper": 1,
        "valid_until": timezone.now() + timedelta(days=10),
    }
    spec.update(overrides)
    return coupon_issue(**spec)
