"""Earned coupons: each trigger issues once per shopper and occasion, says why, and holds back."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection
from django.test import override_settings
from django.utils import timezone

from personalization.loyalty.models import Coupon, LoyaltyStatus
from personalization.loyalty.services import coupons_issue_earned
from personalization.loyalty.tasks import issue_loyalty_coupons
from shop.models import Order
from shop.services import order_set_status
from social.services import consent_apply_sign_in, consent_revoke
from tests.community_factories import IntentRuleFactory
from tests.factories import CategoryFactory, ProductFactory, UserFactory
from tests.loyalty.conftest import buy
from tests.loyalty_factories import EarnRuleFactory, TierFactory


@pytest.mark.django_db
def test_nth_order_issues_once_however_often_the_task_runs(shipping):
    EarnRuleFactory(trigger="nth_order", threshold=2)
    shopper = UserFactory()
    buy(user=shopper, shipping=shipping)
    assert issue_loyalty_coupons.delay().get()["issued"] == 0
    buy(user=shopper, shipping=shipping)
    for _ in range(3):
        issue_loyalty_coupons.delay()
    coupon = Coupon.objects.get(owner=shopper)
    assert coupon.reason == "Because this is your 2nd order"
    assert coupon.occasion == "order:2"
    assert coupon.kind == "single" and coupon.max_uses == 1
    assert coupon.valid_until - coupon.created_at == timedelta(days=30)


@pytest.mark.django_db
def test_tier_reached_and_spend_threshold_say_why(shipping):
    TierFactory(name="Silver", position=2, min_spend=Decimal("50"), min_orders=1)
    silver = EarnRuleFactory(trigger="tier_reached", tier=TierFactory(name="Silver"))
    EarnRuleFactory(
        trigger="spend_threshold",
        threshold=Decimal("60"),
        benefit_type="fixed",
        benefit_value=Decimal("5"),
    )
    shopper = UserFactory()
    buy(user=shopper, shipping=shipping, price="70.00")
    result = coupons_issue_earned()
    assert result.issued == 2
    reasons = set(Coupon.objects.filter(owner=shopper).values_list("reason", flat=True))
    assert reasons == {"Because you reached Silver", "Because you have spent €60.00 with us"}
    assert Coupon.objects.get(earn_rule=silver).facts["tier"] == "silver"


@pytest.mark.django_db
def test_win_back_once_per_lapse(shipping):
    EarnRuleFactory(trigger="win_back", threshold=90)
    shopper = UserFactory()
    buy(user=shopper, shipping=shipping, placed_at=timezone.now() - timedelta(days=130))
    coupons_issue_earned()
    coupons_issue_earned()
    coupon = Coupon.objects.get(owner=shopper)
    assert coupon.reason == "We miss you: it has been 4 months since your last order"
    # a new order, then a new lapse: a new occasion
    buy(user=shopper, shipping=shipping, placed_at=timezone.now() - timedelta(days=95))
    coupons_issue_earned()
    assert Coupon.objects.filter(owner=shopper, trigger="win_back").count() == 2


def grant_birthday(user, *, month, day):
    consent_apply_sign_in(
        user=user,
        provider="friendbook",
        granted=["birthday"],
        profile={"birthday_month": month, "birthday_day": day},
    )


@pytest.mark.django_db
def test_birthday_only_while_the_consent_stands():
    EarnRuleFactory(trigger="birthday", threshold=7)
    soon = timezone.now() + timedelta(days=3)
    granted, revoked, never = UserFactory(), UserFactory(), UserFactory()
    grant_birthday(granted, month=soon.month, day=soon.day)
    grant_birthday(revoked, month=soon.month, day=soon.day)
    consent_revoke(user=revoked, category="birthday")
    assert never.pk  # no social data at all
    coupons_issue_earned()
    assert list(Coupon.objects.values_list("owner", flat=True)) == [granted.pk]
    coupon = Coupon.objects.get()
    assert coupon.reason.startswith("Happy birthday! You shared your birthday with us")
    assert coupon.occasion.startswith("birthday:")


@pytest.mark.django_db
@override_settings(LOYALTY_ALLOWED_SOURCES=["store", "own_text"])
def test_no_coupon_from_granted_demographics_when_the_setting_forbids_them():
    EarnRuleFactory(trigger="birthday", threshold=7, name="Birthday")
    soon = timezone.now() + timedelta(days=1)
    grant_birthday(UserFactory(), month=soon.month, day=soon.day)
    result = coupons_issue_earned()
    assert result.skipped_rules == ["Birthday"]
    assert not Coupon.objects.exists()


@pytest.mark.django_db
def test_replacement_intent_in_the_shoppers_own_review_gives_an_offer_on_that_category(
    django_capture_on_commit_callbacks,
):
    from social.reviews.services import review_create

    kitchen = CategoryFactory(name="Blenders", slug="blenders")
    IntentRuleFactory(phrase="broke my", category=kitchen)
    EarnRuleFactory(trigger="replacement_intent", threshold=30, benefit_value=Decimal("15"))
    author = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        review_create(
            user=author,
            product=ProductFactory(),
            rating=2,
            title="Sad",
            body="Nice mugs, but my kid broke my blender while making tea.",
        )
    from social.reviews.models import Review

    assert Review.objects.get().intents, "the text signal found the intent"
    coupons_issue_earned()
    coupons_issue_earned()
    coupon = Coupon.objects.get(owner=author)
    assert coupon.trigger == "replacement_intent"
    assert coupon.reason == (
        'We read in your review that you need a new blender ("broke my blender")'
    )
    assert coupon.conditions == [{"type": "categories", "ids": [kitchen.pk], "names": ["Blenders"]}]


@pytest.mark.django_db
@override_settings(LOYALTY_MAX_EARNED_PER_30_DAYS=2)
def test_at_most_n_earned_coupons_per_30_days(shipping):
    for n in (1, 2, 3):
        EarnRuleFactory(trigger="nth_order", threshold=n)
    shopper = UserFactory()
    for _ in range(3):
        buy(user=shopper, shipping=shipping)
    result = coupons_issue_earned()
    assert (result.issued, result.held_by_cap) == (2, 1)
    assert Coupon.objects.filter(owner=shopper).count() == 2
    later = timezone.now() + timedelta(days=31)
    assert coupons_issue_earned(now=later).issued == 1  # the held one, a month later


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_issue_each_occasion_once_and_keep_the_cap():
    from tests.factories import ShippingMethodFactory

    shipping = ShippingMethodFactory()
    for n in (1, 2, 3, 4):
        EarnRuleFactory(trigger="nth_order", threshold=n)
    shoppers = [UserFactory(username=f"runner{n}") for n in range(5)]
    for shopper in shoppers:
        for _ in range(4):
            buy(user=shopper, shipping=shipping)
    barrier = threading.Barrier(4)
    errors = []

    def run():
        close_old_connections()
        try:
            barrier.wait()
            coupons_issue_earned()
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    for shopper in shoppers:  # cap 3 (the default) of the four occasions, each once
        occasions = list(Coupon.objects.filter(owner=shopper).values_list("occasion", flat=True))
        assert sorted(occasions) == ["order:1", "order:2", "order:3"]


@pytest.mark.django_db
def test_a_refund_lowers_the_tier_and_takes_back_unused_rewards(shipping):
    TierFactory(name="Bronze", slug="bronze", position=1, min_spend=0, min_orders=0)
    TierFactory(name="Silver", position=2, min_spend=Decimal("100"), min_orders=2)
    EarnRuleFactory(trigger="tier_reached", tier=TierFactory(name="Silver"))
    EarnRuleFactory(trigger="nth_order", threshold=2)
    shopper = UserFactory()
    buy(user=shopper, shipping=shipping, price="60.00")
    second = buy(user=shopper, shipping=shipping, price="60.00")
    status = LoyaltyStatus.objects.get(user=shopper)
    assert status.tier.slug == "silver" and status.orders_12m == 2
    coupons_issue_earned()
    assert Coupon.objects.filter(owner=shopper, revoked_at=None).count() == 2

    order_set_status(order_id=second.pk, status=Order.Status.REFUNDED)

    status.refresh_from_db()
    assert (status.tier.slug, status.orders_12m) == ("bronze", 1)
    assert status.spend_12m == Decimal("64.90")
    revoked = Coupon.objects.filter(owner=shopper).exclude(revoked_at=None)
    assert revoked.count() == 2
    assert all(f"order {second.number} was refunded" in c.revoked_reason for c in revoked)
    coupons_issue_earned()  # no re-issue while not earned again
    assert Coupon.objects.filter(owner=shopper, revoked_at=None).count() == 0


@pytest.mark.django_db
def test_a_cancelled_order_of_a_used_reward_keeps_the_record(shipping):
    EarnRuleFactory(trigger="nth_order", threshold=1)
    shopper = UserFactory()
    first = buy(user=shopper, shipping=shipping)
    coupons_issue_earned()
    coupon = Coupon.objects.get(owner=shopper)
    buy(user=shopper, shipping=shipping, codes=[coupon.code])  # used on a second order
    order_set_status(order_id=first.pk, status=Order.Status.CANCELLED)
    coupon.refresh_from_db()
    assert coupon.uses == 1 and coupon.revoked_at is None  # used rewards are history


@pytest.mark.django_db
def test_revoking_the_birthday_consent_withdraws_the_unused_birthday_coupon():
    EarnRuleFactory(trigger="birthday", threshold=7)
    soon = timezone.now() + timedelta(days=2)
    shopper = UserFactory()
    grant_birthday(shopper, month=soon.month, day=soon.day)
    coupons_issue_earned()
    coupon = Coupon.objects.get(owner=shopper)
    assert coupon.revoked_at is None
    consent_revoke(user=shopper, category="birthday")
    coupons_issue_earned()
    coupon.refresh_from_db()
    assert coupon.revoked_at is not None
    assert coupon.revoked_reason == "you stopped sharing your birthday with us"


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Order.Status.CANCELLED, Order.Status.REFUNDED])
def test_cancelling_or_refunding_an_order_gives_the_coupon_use_back_once(shipping, status):
    from personalization.loyalty.models import CouponRedemption, CouponUsage
    from personalization.loyalty.services import coupon_uses_release
    from tests.loyalty_factories import make_coupon

    coupon = make_coupon(code="ONLYONE", max_uses=1, max_uses_per_shopper=1)
    shopper = UserFactory()
    order = buy(user=shopper, shipping=shipping, codes=["ONLYONE"])
    assert order.discount_total > 0
    coupon.refresh_from_db()
    assert coupon.uses == 1, "precondition: the order used the coupon"

    order_set_status(order_id=order.pk, status=status)

    coupon.refresh_from_db()
    assert coupon.uses == 0
    usage = CouponUsage.objects.get(coupon=coupon, shopper_key=f"user:{shopper.pk}")
    assert usage.uses == 0
    redemption = CouponRedemption.objects.get(coupon=coupon, order=order)
    assert redemption.released_at is not None, "the redemption stays, marked as given back"
    order.refresh_from_db()
    assert coupon_uses_release(order=order) == 0, "a second release gives nothing back"
    coupon.refresh_from_db()
    assert coupon.uses == 0
    # the use is free again: for the same shopper (per-shopper limit) and for anyone (max uses)
    again = buy(user=shopper, shipping=shipping, codes=["ONLYONE"])
    assert again.discount_total > 0
    coupon.refresh_from_db()
    assert coupon.uses == 1


@pytest.mark.django_db
def test_a_refund_from_gold_to_silver_takes_back_only_the_unused_gold_reward(shipping, client):
    from django.urls import reverse

    TierFactory(name="Bronze", slug="bronze", position=1, min_spend=0, min_orders=0)
    TierFactory(name="Silver", position=2, min_spend=Decimal("100"), min_orders=1)
    TierFactory(name="Gold", slug="gold", position=3, min_spend=Decimal("300"), min_orders=1)
    for slug in ("silver", "gold"):
        EarnRuleFactory(trigger="tier_reached", tier=TierFactory(slug=slug, name=slug.title()))
    shopper = UserFactory()
    buy(user=shopper, shipping=shipping, price="150.00")
    big = buy(user=shopper, shipping=shipping, price="200.00")
    coupons_issue_earned()
    rewards = {c.facts["tier"]: c for c in Coupon.objects.filter(owner=shopper)}
    assert set(rewards) == {"silver", "gold"}, "precondition: both tier rewards issued"

    small = buy(user=shopper, shipping=shipping, price="5.00")
    order_set_status(order_id=small.pk, status=Order.Status.REFUNDED)  # still Gold
    assert not Coupon.objects.filter(owner=shopper).exclude(revoked_at=None).exists()

    order_set_status(order_id=big.pk, status=Order.Status.REFUNDED)  # 154.90 left: Silver

    assert LoyaltyStatus.objects.get(user=shopper).tier.slug == "silver"
    gold, silver = (Coupon.objects.get(pk=rewards[t].pk) for t in ("gold", "silver"))
    assert silver.revoked_at is None, "Silver is still earned"
    assert gold.revoked_at is not None
    assert gold.revoked_reason == f"no longer earned after order {big.number} was refunded"
    client.force_login(shopper)
    page = client.get(reverse("loyalty:rewards")).content.decode()
    assert "You are a Silver member" in page
    assert f"Withdrawn: no longer earned after order {big.number} was refunded" in page


@pytest.mark.django_db
def test_a_used_tier_reward_stays_used_after_the_refund_that_lowers_the_tier(shipping):
    TierFactory(name="Bronze", slug="bronze", position=1, min_spend=0, min_orders=0)
    silver = TierFactory(name="Silver", position=2, min_spend=Decimal("100"), min_orders=1)
    EarnRuleFactory(trigger="tier_reached", tier=silver)
    shopper = UserFactory()
    big = buy(user=shopper, shipping=shipping, price="120.00")
    coupons_issue_earned()
    reward = Coupon.objects.get(owner=shopper)
    used_on = buy(user=shopper, shipping=shipping, price="10.00", codes=[reward.code])
    assert used_on.discount_total > 0, "precondition: the reward was used"

    order_set_status(order_id=big.pk, status=Order.Status.REFUNDED)

    reward.refresh_from_db()
    assert LoyaltyStatus.objects.get(user=shopper).tier.slug == "bronze"
    assert (reward.uses, reward.revoked_at) == (1, None), "history is not rewritten"
