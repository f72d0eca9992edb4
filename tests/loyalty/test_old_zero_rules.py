"""Earn rules and model coupons saved before ``rules.benefit_problem`` existed (a zero-value
percentage or amount off) issue nothing: the earning run skips and logs them, bulk generation
refuses them, and a data migration switches such rules off. Coupons issued from them before
are withdrawn by the next earning run."""

import importlib
import logging
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

from personalization.loyalty.models import Coupon, EarnRule
from personalization.loyalty.services import coupon_generate_bulk, coupons_issue_earned
from tests.factories import UserFactory
from tests.loyalty.conftest import buy
from tests.loyalty_factories import EarnRuleFactory, make_coupon

pytestmark = pytest.mark.django_db

deactivation = importlib.import_module(
    "personalization.loyalty.migrations.0004_deactivate_zero_value_earn_rules"
)


def _old_rule(name, benefit_type, value) -> EarnRule:
    """A rule as one saved before the check: written without ``full_clean``."""
    rule = EarnRuleFactory(name=name, trigger="nth_order", threshold=1)
    EarnRule.objects.filter(pk=rule.pk).update(benefit_type=benefit_type, benefit_value=value)
    rule.refresh_from_db()
    return rule


def test_an_old_zero_value_earn_rule_issues_nothing_and_is_logged(shipping, caplog):
    zero_pct = _old_rule("Zero %", "percentage", Decimal("0"))
    zero_fixed = _old_rule("Zero €", "fixed", Decimal("0"))
    sound = EarnRuleFactory(name="Ten %", trigger="nth_order", threshold=1)
    assert zero_pct.is_active and zero_fixed.is_active  # the precondition: they would run
    shopper = UserFactory()
    buy(user=shopper, shipping=shipping)

    with caplog.at_level(logging.WARNING, logger="personalization.loyalty.services"):
        result = coupons_issue_earned()

    assert set(result.skipped_rules) == {"Zero %", "Zero €"}
    assert list(Coupon.objects.values_list("earn_rule", flat=True)) == [sound.pk]
    assert result.issued == 1
    assert not Coupon.objects.filter(benefit_value__lte=0).exclude(benefit_type="free_shipping")
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "Zero %" in logged and "Zero €" in logged and "more than zero" in logged


def test_a_free_shipping_rule_takes_no_value_and_still_issues(shipping):
    EarnRuleFactory(
        name="Ship",
        trigger="nth_order",
        threshold=1,
        benefit_type="free_shipping",
        benefit_value=Decimal("0"),
    )
    buy(user=UserFactory(), shipping=shipping)
    result = coupons_issue_earned()
    assert result.issued == 1 and result.skipped_rules == []


def test_the_migration_switches_off_only_the_refused_rules():
    zero = _old_rule("Zero", "fixed", Decimal("0"))
    too_much = _old_rule("Too much", "percentage", Decimal("150"))
    sound = EarnRuleFactory(name="Ten %")
    ship = EarnRuleFactory(name="Ship", benefit_type="free_shipping", benefit_value=Decimal("0"))

    deactivation.deactivate(apps, None)

    active = dict(EarnRule.objects.values_list("name", "is_active"))
    assert active == {zero.name: False, too_much.name: False, sound.name: True, ship.name: True}


def test_bulk_codes_are_refused_from_an_old_zero_value_model(admin_client):
    model = make_coupon(code="OLDZERO", benefit_type="fixed", benefit_value=Decimal("5"))
    Coupon.objects.filter(pk=model.pk).update(benefit_value=Decimal("0"))  # saved before the check
    model.refresh_from_db()

    with pytest.raises(ValueError, match="more than zero"):
        coupon_generate_bulk(template=model, count=3)
    response = admin_client.post(
        reverse("admin:loyalty_coupon_changelist"),
        {"action": "generate_bulk", "_selected_action": [model.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "No codes generated" in response.content.decode()
    assert Coupon.objects.count() == 1


def test_zero_value_coupons_already_issued_are_withdrawn_by_the_next_run():
    ana = UserFactory()
    pct = make_coupon(code="ZEROPCT", owner=ana)
    fixed = make_coupon(code="ZEROFIX", owner=ana, benefit_type="fixed", benefit_value=Decimal("5"))
    make_coupon(code="SOUND", owner=ana)
    shipping = make_coupon(code="SHIPFREE", owner=ana, benefit_type="free_shipping")
    # written around the check, as before it existed (free shipping takes no value)
    Coupon.objects.filter(pk__in=[pct.pk, fixed.pk, shipping.pk]).update(benefit_value=0)
    assert not Coupon.objects.exclude(revoked_at=None).exists()  # precondition

    coupons_issue_earned()

    withdrawn = dict(Coupon.objects.values_list("code", "revoked_at"))
    assert withdrawn["ZEROPCT"] is not None and withdrawn["ZEROFIX"] is not None
    assert withdrawn["SOUND"] is None and withdrawn["SHIPFREE"] is None
    assert "took nothing off" in Coupon.objects.get(code="ZEROFIX").revoked_reason
    first = Coupon.objects.get(code="ZEROFIX").revoked_at
    coupons_issue_earned()  # a later run leaves the withdrawal as it was
    assert Coupon.objects.get(code="ZEROFIX").revoked_at == first
