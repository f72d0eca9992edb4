"""Birthdays and the 12-month window are counted in the shopper's own time zone (STYLE.md 20).

The instant used is 2026-03-08 23:30 UTC: already 9 March in Auckland (NZDT, UTC+13) and in
Berlin (the store, CET), still 8 March in Los Angeles, on the day its clocks went forward
(PDT, UTC-7 since 02:00 local).
"""

from datetime import UTC, datetime

import pytest
from django.test import override_settings

from personalization.loyalty.models import Coupon, LoyaltyStatus
from personalization.loyalty.services import coupons_issue_earned, loyalty_refresh
from personalization.outreach.services import preferences_update
from social.services import consent_apply_sign_in
from tests.factories import UserFactory
from tests.loyalty.conftest import buy
from tests.loyalty_factories import EarnRuleFactory

NOW = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
    pytest.mark.usefixtures("store_in_berlin"),
]


@pytest.fixture
def store_in_berlin():
    with override_settings(LOYALTY_TIME_ZONE="Europe/Berlin", LOYALTY_WINDOW_DAYS=365):
        yield


def shopper_in(zone: str | None):
    user = UserFactory()
    if zone:
        preferences_update(
            user=user, opted_in=False, muted_topics=set(), frequency="normal", time_zone=zone
        )
    return user


def test_birthday_is_today_in_the_shoppers_zone_not_the_stores():
    EarnRuleFactory(trigger="birthday", threshold=1)  # today or tomorrow
    auckland, los_angeles, berlin = (
        shopper_in("Pacific/Auckland"),
        shopper_in("America/Los_Angeles"),
        shopper_in(None),
    )
    for user in (auckland, los_angeles, berlin):
        consent_apply_sign_in(
            user=user,
            provider="friendbook",
            granted=["birthday"],
            profile={"birthday_month": 3, "birthday_day": 10},
        )

    coupons_issue_earned(now=NOW)

    owners = set(Coupon.objects.filter(trigger="birthday").values_list("owner_id", flat=True))
    # 10 March is "tomorrow" on 9 March (Auckland, Berlin) but two days off on 8 March (LA)
    assert owners == {auckland.pk, berlin.pk}
    coupon = Coupon.objects.get(owner=auckland)
    assert coupon.occasion == "birthday:2026"


def test_the_twelve_month_window_starts_at_local_midnight_in_the_shoppers_zone():
    from tests.factories import ShippingMethodFactory

    shipping = ShippingMethodFactory()
    # Window starts: Auckland 2025-03-09 00:00 NZDT = 2025-03-08 11:00 UTC; Los Angeles
    # 2025-03-08 00:00 PST = 08:00 UTC; Berlin 2025-03-09 00:00 CET = 2025-03-08 23:00 UTC.
    early = datetime(2025, 3, 8, 9, 0, tzinfo=UTC)
    late = datetime(2025, 3, 8, 12, 0, tzinfo=UTC)
    shoppers = {
        "auckland": shopper_in("Pacific/Auckland"),
        "los_angeles": shopper_in("America/Los_Angeles"),
        "berlin": shopper_in(None),
    }
    for user in shoppers.values():
        for at in (early, late):
            order = buy(user=user, shipping=shipping, placed_at=at)
            assert order.created_at == at, "precondition: the order is dated"

    loyalty_refresh(now=NOW)

    counts = {
        name: LoyaltyStatus.objects.get(user=user).orders_12m for name, user in shoppers.items()
    }
    assert counts == {"auckland": 1, "los_angeles": 2, "berlin": 0}
    assert LoyaltyStatus.objects.get(user=shoppers["berlin"]).orders_total == 2
