"""Loyalty at scale: every earning trigger evaluated for 100,000 shoppers on PostgreSQL.

Rows: loyalty.evaluate_first_run (figures refreshed from empty, every trigger evaluated,
coupons issued), loyalty.evaluate_rerun (the same run again: everything already issued,
nothing written twice), loyalty.evaluate_steady (the daily run: a day's 3,000 new orders
since, so a few tiers, Nth orders and thresholds are new), loyalty.refresh (the set-based
tier/figures refresh alone).
Data: the profiles bench's shoppers (bench/profiles.py generator), plus 300,000 orders over two
years, birthdays with consent for 10% of shoppers, 2,000 reviews with a replacement intent.
The earned coupons are deleted after the run, so a second ``make bench`` measures the same.
"""

import time

from django.db import connection, transaction

from bench import profiles

ORDERS = 300_000
STEADY_ORDERS = 3_000  # a day's orders between the re-run and the steady run

ORDERS_SQL = """
INSERT INTO shop_order (number, user_id, email, status, full_name, line1, line2, city, postcode,
    country, phone, shipping_method_id, subtotal, shipping_cost, discount_total, total, currency,
    payment_gateway, payment_reference, card_last4, created_at, confirmation_due,
    status_emailed)
SELECT 'BENCH-' || g, u.id, u.email,
    CASE WHEN random() < 0.05 THEN 'refunded' ELSE 'delivered' END,
    'Bench Shopper', '1 Road', '', 'Berlin', '10115', 'DE', '', %(shipping)s,
    s.amount, 4.90, 0, s.amount + 4.90, 'EUR', 'test', 'bench', '4242',
    now() - random() * interval '730 days', false, ''
FROM (SELECT g, %(first_user)s + floor(random() * %(shoppers)s)::bigint AS user_id,
             round((10 + random() * 150)::numeric, 2) AS amount
      FROM generate_series(1, %(orders)s) g) s
JOIN auth_user u ON u.id = s.user_id
"""

BIRTHDAYS_SQL = """
INSERT INTO social_socialprofile (user_id, provider, display_name, age_band, birthday_month,
    birthday_day, gender, relationship_status, interests, updated_at)
SELECT u.id, 'friendbook', '', '', 1 + (u.id %% 12), 1 + (u.id %% 28), '', '', '[]', now()
FROM auth_user u WHERE u.username LIKE 'bench%%' AND u.id %% 10 = 0;
INSERT INTO social_consentrecord (user_id, category, action, source, provider, policy_version,
    created_at)
SELECT user_id, 'birthday', 'granted', 'permission_screen', 'friendbook', 'bench', now()
FROM social_socialprofile WHERE provider = 'friendbook' AND display_name = ''
    AND user_id IN (SELECT id FROM auth_user WHERE username LIKE 'bench%%');
"""

REVIEWS_SQL = """
INSERT INTO reviews_review (product_id, author_id, rating, title, body, status, rejection_reason,
    moderated_at, verified_buyer, helpful_count, report_count, reply, reply_at, created_at,
    sentiment, intents, text_version, analysed_version, analysed_at)
SELECT %(first_product)s + g, %(first_user)s + g * 37, 2, 'Broke', 'my blender broke',
    'approved', '', NULL, false, 0, 0, '', NULL, now() - interval '3 days', -0.5,
    jsonb_build_array(jsonb_build_object('rule_id', 0, 'intent', 'replacement',
        'category_id', p.category_id, 'category', 'Bench', 'phrase', 'broke my',
        'matched', 'broke my blender')),
    1, 1, now()
FROM generate_series(1, 2000) g JOIN shop_product p ON p.id = %(first_product)s + g
"""


def _table(model) -> str:
    return model._meta.db_table


def make_data(*, shoppers: int, events: int, log) -> None:
    from django.apps import apps

    profiles.make_data(shoppers=shoppers, events=events, log=log)
    have = profiles._scalar("SELECT count(*) FROM shop_order WHERE number LIKE 'BENCH-%%'")
    if have == ORDERS:
        log(f"reusing {ORDERS:,} orders")
        return
    started = time.perf_counter()
    Review = apps.get_model("reviews", "Review")
    first_user, first_product = profiles._ids()
    with transaction.atomic(), connection.cursor() as cursor:
        from shop.models import ShippingMethod

        shipping, _ = ShippingMethod.objects.get_or_create(
            code="bench", defaults={"name": "Bench", "price": "4.90"}
        )
        cursor.execute("DELETE FROM shop_order WHERE number LIKE 'BENCH-%%'", {})
        cursor.execute(
            ORDERS_SQL,
            {
                "shipping": shipping.pk,
                "first_user": first_user,
                "shoppers": shoppers,
                "orders": ORDERS,
            },
        )
        cursor.execute(
            "DELETE FROM social_consentrecord WHERE policy_version = 'bench';"
            "DELETE FROM social_socialprofile WHERE user_id IN "
            "(SELECT id FROM auth_user WHERE username LIKE 'bench%%')",
            {},
        )
        cursor.execute(BIRTHDAYS_SQL, {})
        cursor.execute(f"DELETE FROM {_table(Review)} WHERE title = 'Broke'")
        cursor.execute(
            REVIEWS_SQL.replace("reviews_review", _table(Review)),
            {"first_user": first_user, "first_product": first_product},
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"made {ORDERS:,} orders, birthdays, reviews in {time.perf_counter() - started:.1f} s")


def _rules():
    from decimal import Decimal

    from personalization.loyalty.models import EarnRule, Tier
    from personalization.loyalty.services import tiers_ensure_defaults

    tiers_ensure_defaults()
    EarnRule.objects.filter(name__startswith="bench:").delete()
    specs = [
        ("tier_reached", 0, Tier.objects.get(slug="silver")),
        ("tier_reached", 0, Tier.objects.get(slug="gold")),
        ("nth_order", 3, None),
        ("nth_order", 5, None),
        ("spend_threshold", 500, None),
        ("birthday", 7, None),
        ("win_back", 90, None),
        ("replacement_intent", 30, None),
    ]
    EarnRule.objects.bulk_create(
        EarnRule(
            name=f"bench: {trigger} {threshold}",
            trigger=trigger,
            threshold=Decimal(threshold),
            tier=tier,
            benefit_type="percentage",
            benefit_value=Decimal("10"),
            valid_days=30,
        )
        for trigger, threshold, tier in specs
    )


def _clean():
    from personalization.loyalty.models import EARNED, Coupon

    Coupon.objects.filter(trigger__in=EARNED).delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM shop_order WHERE number LIKE 'BDAY-%%'", {})


def _orders_today(shoppers: int):
    """A day's new orders (``STEADY_ORDERS``, by random bench shoppers) before the steady run."""
    with connection.cursor() as cursor:
        cursor.execute(
            ORDERS_SQL.replace("'BENCH-' || g", "'BDAY-' || g").replace(
                "random() * interval '730 days'", "random() * interval '1 day'"
            ),
            {
                "shipping": _bench_shipping().pk,
                "first_user": profiles._ids()[0],
                "shoppers": shoppers,
                "orders": STEADY_ORDERS,
            },
        )


def _bench_shipping():
    from shop.models import ShippingMethod

    return ShippingMethod.objects.get(code="bench")


def run(*, shoppers: int, events: int) -> list[dict]:
    from personalization.loyalty.services import coupons_issue_earned, loyalty_refresh

    def log(message):
        print(f"[loyalty] {message}", flush=True)

    make_data(shoppers=shoppers, events=events, log=log)
    _rules()
    _clean()
    size = f"{shoppers:,} shoppers, {ORDERS:,} orders, 8 earn rules (6 trigger kinds)"

    from personalization.loyalty.models import LoyaltyStatus

    LoyaltyStatus.objects.all().delete()
    started = time.perf_counter()
    refreshed = loyalty_refresh()
    refresh = time.perf_counter() - started
    log(f"refresh of figures and tiers from empty: {refresh:.2f} s ({refreshed:,} rows)")
    LoyaltyStatus.objects.all().delete()  # the first run starts from nothing, as a new shop

    first = coupons_issue_earned()
    log(
        f"first run: {first.seconds:.2f} s, {first.candidates:,} candidates, "
        f"{first.issued:,} issued, {first.held_by_cap:,} held by the cap"
    )
    again = coupons_issue_earned()
    # only occasions that arose meanwhile (a win-back lapse crossing 90 days during the run)
    log(f"re-run: {again.seconds:.2f} s, {again.issued:,} issued (new occasions only)")
    _orders_today(shoppers)
    steady = coupons_issue_earned()
    log(
        f"steady run (after {STEADY_ORDERS:,} new orders): {steady.seconds:.2f} s, "
        f"{steady.candidates:,} candidates, {steady.issued:,} issued, "
        f"{steady.held_by_cap:,} held by the cap"
    )
    from django.db.models import Count

    from personalization.loyalty.models import EARNED, Coupon

    twice = (
        Coupon.objects.filter(trigger__in=EARNED)
        .values("owner", "trigger", "occasion")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    assert twice == 0, f"{twice} occasions issued twice"
    _clean()
    return [
        {
            "name": "loyalty.evaluate_first_run",
            "value": round(first.seconds, 3),
            "unit": "s",
            "size": f"{size}; {first.candidates:,} candidates, {first.issued:,} issued",
            "reference": "target <= 30 s: refresh from empty + every trigger + issue, one "
            "transaction",
        },
        {
            "name": "loyalty.evaluate_rerun",
            "value": round(again.seconds, 3),
            "unit": "s",
            "size": f"{size}; {again.issued:,} issued",
            "reference": "target <= 30 s; the same run again: nothing issued twice",
        },
        {
            "name": "loyalty.evaluate_steady",
            "value": round(steady.seconds, 3),
            "unit": "s",
            "size": f"{size}; after {STEADY_ORDERS:,} new orders: {steady.candidates:,} "
            f"candidates, {steady.issued:,} issued, {steady.held_by_cap:,} held by the cap",
            "reference": "target <= 30 s: the daily run once the first has issued everything",
        },
        {
            "name": "loyalty.refresh",
            "value": round(refresh, 3),
            "unit": "s",
            "size": size,
            "reference": "set-based figures and tiers alone, from an empty table",
        },
    ]
