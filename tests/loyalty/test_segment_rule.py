"""The "loyalty tier" segment rule, once the segments registry (issue 9) is on main."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from tests.factories import UserFactory
from tests.loyalty.conftest import buy
from tests.loyalty_factories import TierFactory

segments = pytest.importorskip(
    "personalization.segments.rules", reason="the segments registry (issue 9) is not merged yet"
)


@pytest.mark.django_db
def test_loyalty_tier_rule_is_registered_and_compile_agrees_with_evaluate(shipping):
    rule = segments.get_rule("loyalty_tier")
    assert rule is not None, "LoyaltyConfig.ready() registers the rule"
    TierFactory(name="Bronze", slug="bronze", position=1, min_spend=0, min_orders=0)
    TierFactory(name="Silver", position=2, min_spend=Decimal("50"), min_orders=1)
    silver, bronze = UserFactory(), UserFactory()
    buy(user=silver, shipping=shipping, price="60.00")
    buy(user=bronze, shipping=shipping, price="10.00")
    params = rule.clean({"tier": "silver", "or_above": True})
    matched = set(
        get_user_model().objects.filter(rule.compile(params)).values_list("pk", flat=True)
    )
    assert matched == {silver.pk}
    assert rule.evaluate(SimpleNamespace(user=silver), params) is True
    assert rule.evaluate(SimpleNamespace(user=bronze), params) is False
    assert rule.explain(params) == "You are a Silver or above member of our loyalty programme"
    with pytest.raises(segments.RuleError):
        rule.clean({"tier": "platinum"})
