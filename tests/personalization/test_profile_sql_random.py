"""The profile build's SQL (``building.aggregate_sql``) against the Python twin on random events.

The SQL was rewritten for speed (issue 15): the decay is computed once per event, recency and
sentiment come from a plain GROUP BY and the affinity object is written as JSON text. Whatever
the events, it must give what ``building.aggregate_python`` (the formula as written, one event
at a time) gives: the same shoppers, counts, money, times and intents, and affinity scores equal
up to the order in which floats are added.
"""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from personalization import building
from personalization.models import Event, ShopperChoice, interest_keys
from tests.factories import UserFactory

from .helpers import catalogue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

KINDS = ["view", "add_to_cart", "like", "unlike", "purchase", "search", "text_signal", "share"]

event = st.fixed_dictionaries(
    {
        "user": st.integers(0, 3),  # 3: personalization off
        "kind": st.sampled_from(KINDS),
        "product": st.integers(-1, 2),  # -1: no product
        "days_ago": st.floats(-5, 400, allow_nan=False),
        "variant": st.sampled_from(["own", "other", "nope", "99999999", None, 7]),
        "value": st.one_of(st.none(), st.decimals("0.01", "999.99", places=2)),
        "sentiment": st.one_of(st.none(), st.floats(-3, 3, allow_nan=False), st.just("x")),
        "intent": st.one_of(st.none(), st.sampled_from(["gift", "Replacement", ""])),
        "category": st.one_of(st.none(), st.sampled_from(["12", "x", 3])),
        "order": st.one_of(st.none(), st.sampled_from(["A", "B"])),
    }
)


def _sql_rows(lo: int, hi: int) -> dict:
    with transaction.atomic(), connection.cursor() as cursor:
        building.aggregate_sql(cursor, lo=lo, hi=hi)
        cursor.execute(
            "SELECT user_id, event_count, order_count, monetary, first_event_at, last_event_at,"
            " first_purchase_at, last_purchase_at, sentiment_sum, sentiment_count, affinity_ids,"
            " affinity_raw, intents FROM pz_agg"
        )
        names = [c[0] for c in cursor.description]
        rows = {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
        for row in rows.values():  # a raw cursor may hand jsonb over as text
            if isinstance(row["intents"], str):
                row["intents"] = json.loads(row["intents"])
            ids, raw = row.pop("affinity_ids"), row.pop("affinity_raw")
            assert len(ids) == len(set(ids)) == len(raw)
            row["affinities"] = dict(zip(interest_keys(ids), raw, strict=True))
        building.drop_staging(cursor)
    return rows


@given(events=st.lists(event, min_size=1, max_size=25))
@hsettings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_sql_build_equals_the_python_formula_on_random_events(events):
    if not hasattr(test_sql_build_equals_the_python_formula_on_random_events, "world"):
        test_sql_build_equals_the_python_formula_on_random_events.world = (
            catalogue(),
            [UserFactory() for _ in range(4)],
        )
        ShopperChoice.objects.create(
            user=test_sql_build_equals_the_python_formula_on_random_events.world[1][3],
            personalization_enabled=False,
        )
    products, users = test_sql_build_equals_the_python_formula_on_random_events.world
    lo = Event.objects.aggregate(top=Max("id"))["top"] or 0
    now = timezone.now()
    for spec in events:
        product = products[spec["product"]] if spec["product"] >= 0 else None
        attributes = {}
        if spec["variant"] == "own" and product is not None:
            attributes["variant"] = product.variants.first().pk
        elif spec["variant"] == "other":
            attributes["variant"] = str(products[0].variants.first().pk)
        elif spec["variant"] is not None:
            attributes["variant"] = spec["variant"]
        for key in ("sentiment", "intent", "order"):
            if spec[key] is not None:
                attributes[key] = spec[key]
        if spec["category"] is not None:
            attributes["category_id"] = spec["category"]
        Event.objects.create(
            kind=spec["kind"],
            user=users[spec["user"]],
            product=product,
            value=spec["value"] if spec["kind"] == "purchase" else None,
            attributes=attributes,
            occurred_at=now - timedelta(days=spec["days_ago"]),
        )
    hi = Event.objects.aggregate(top=Max("id"))["top"]

    expected = building.aggregate_python(lo=lo, hi=hi)
    got = _sql_rows(lo, hi)

    assert got.keys() == expected.keys()
    # the opted-out shopper's events are read, then the shopper is dropped (once, at the end)
    assert users[3].pk not in got
    for user_id, agg in expected.items():
        row = got[user_id]
        assert row["event_count"] == agg.event_count
        assert row["order_count"] == len(agg.orders)
        assert row["monetary"] == (agg.monetary or Decimal("0"))
        assert (row["first_event_at"], row["last_event_at"]) == (
            agg.first_event_at,
            agg.last_event_at,
        )
        assert (row["first_purchase_at"], row["last_purchase_at"]) == (
            agg.first_purchase_at,
            agg.last_purchase_at,
        )
        assert row["sentiment_count"] == agg.sentiment_count
        assert row["sentiment_sum"] == pytest.approx(agg.sentiment_sum, abs=1e-12)
        assert row["intents"] == agg.intents
        assert row["affinities"].keys() == agg.affinities.keys()
        for key, raw in agg.affinities.items():
            assert row["affinities"][key] == pytest.approx(raw, rel=1e-12, abs=1e-300)
