"""Recommendations on the bench data: hit rate at 10 and the cost of picks on a warm page.

Rows: recommendations.hit_rate_at_10 (the configured recommender), recommendations.
popularity_hit_rate_at_10 (the popularity baseline, same shoppers), recommendations.refresh
(the set-based refresh of pairs and popularity), recommendations.warm_picks (the "Picked for
you" fragment from a warm cache; queries counted), recommendations.picks_rendered_each_time
(the same fragment rendered from the cached picks on every page, same run).

Data: on top of the profile bench's uniform 1,000,000 events (noise), EVAL_SHOPPERS bench
shoppers get a taste: a favourite category, products drawn with a skew (some are popular), and
bundles (product g is often bought with g + 20, its partner in the same category). Each buys
three products and likes two; their fourth purchase is held out (never inserted) and is what
the recommenders must find in their top 10. The added events are deleted afterwards.
"""

import random
import statistics
import time
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.profiles import CATEGORIES, PRODUCTS, _ids, _scalar, make_data

EVAL_SHOPPERS = 5_000
SAMPLE = 500
PER_CATEGORY = PRODUCTS // CATEGORIES


def _draw(rng, category):
    """A product offset of ``category`` (offsets g with g % CATEGORIES == category), skewed."""
    rank = int((rng.random() ** 2.5) * PER_CATEGORY)
    return category + CATEGORIES * rank


def _partner(offset):
    return (offset + CATEGORIES) % PRODUCTS


def make_tastes(*, first_user, first_product, seed=9):
    """Insert the taste events; returns {user_id: held-out product id}."""
    rng = random.Random(seed)
    now = timezone.now()
    rows, held_out = [], {}
    for n in range(EVAL_SHOPPERS):
        user = first_user + n
        category = rng.randrange(CATEGORIES)
        first = _draw(rng, category)
        second = _partner(first) if rng.random() < 0.6 else _draw(rng, category)
        third = _draw(rng, category)
        fourth = _partner(third) if rng.random() < 0.6 else _draw(rng, category)
        for step, offset in enumerate((first, second, third)):
            at = now - timedelta(days=9 - step)
            rows.append(("purchase", user, first_product + offset, f"T{user}-{step}", at))
        for _ in range(2):
            rows.append(("like", user, first_product + _draw(rng, category), None, now))
        held_out[user] = first_product + fourth
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO personalization_event (kind, user_id, session_key, product_id, "
            "attributes, value, occurred_at) VALUES (%s, %s, '', %s, "
            "CASE WHEN %s::text IS NULL THEN '{}'::jsonb "
            "ELSE jsonb_build_object('order', %s::text, 'quantity', 1) END, 10, %s)",
            [(kind, user, product, order, order, at) for kind, user, product, order, at in rows],
        )
    return held_out


def hit_rate(backend, held_out, users) -> float:
    from personalization.selectors import load_profile

    hits = 0
    for user_id in users:
        picks = backend.picks_for(user_id=user_id, profile=load_profile(user_id=user_id), limit=10)
        hits += held_out[user_id] in {pick.product_id for pick in picks.picks}
    return hits / len(users)


def warm_picks(users) -> tuple[float, float, int]:
    """Median and p95 ms to render the picks fragment warm, and the queries it ran."""
    from django.contrib.auth import get_user_model
    from django.template import Context, Template
    from django.test import RequestFactory

    template = Template("{% load recommendation_tags %}{% picked_for_you %}")
    factory = RequestFactory()
    requests = []
    for user in get_user_model().objects.filter(pk__in=users):
        request = factory.get("/")
        request.user = user
        requests.append(request)
    for request in requests:
        template.render(Context({"request": request}))  # decide and fill the cache
    timings = []
    with CaptureQueriesContext(connection) as queries:
        for request in requests:
            started = time.perf_counter()
            html = template.render(Context({"request": request}))
            timings.append(time.perf_counter() - started)
            assert "pick-card" in html
    timings.sort()
    # The same fragments rendered from the cached picks each time (the path before the fragment
    # cache), interleaved in the same run, so the two figures share the machine's load.
    from django.template.loader import render_to_string

    from personalization.recommendations.selectors import picks_for

    uncached = []
    for request in requests:
        started = time.perf_counter()
        picks = picks_for(request.user)
        render_to_string(
            "recommendations/_picks.html",
            {"picks": picks, "cards": picks.without((), 8), "signed_in": True},
        )
        uncached.append(time.perf_counter() - started)
    return (
        statistics.median(timings) * 1000,
        timings[int(len(timings) * 0.95)] * 1000,
        len(queries.captured_queries),
        statistics.median(uncached) * 1000,
    )


def run(*, shoppers: int, events: int) -> list[dict]:
    from personalization import building
    from personalization.recommendations.backends import PopularityRecommender, get_backend
    from personalization.recommendations.models import PickDecision
    from personalization.recommendations.services import recommendation_data_refresh

    def log(message):
        print(f"[recommendations] {message}", flush=True)

    make_data(shoppers=shoppers, events=events, log=log)
    base_max = _scalar("SELECT max(id) FROM personalization_event")
    first_user, first_product = _ids()
    held_out = make_tastes(first_user=first_user, first_product=first_product)
    try:
        result = building.build_incremental()
        log(f"profiles: incremental build of the taste events, {result.seconds:.2f} s")
        started = time.perf_counter()
        counts = recommendation_data_refresh()
        refresh = time.perf_counter() - started
        log(f"refresh: {counts['pairs']:,} pairs, {counts['products']:,} products, {refresh:.2f} s")
        users = sorted(random.Random(3).sample(sorted(held_out), SAMPLE))
        backend = get_backend()
        ours = hit_rate(backend, held_out, users)
        baseline = hit_rate(PopularityRecommender(), held_out, users)
        log(f"hit rate at 10: {backend.name} {ours:.3f}, popularity {baseline:.3f}")
        median, p95, queries, rendered = warm_picks(users[:200])
        log(
            f"warm picks fragment: median {median:.3f} ms, p95 {p95:.3f} ms, {queries} queries; "
            f"rendered from the cached picks each time: median {rendered:.3f} ms"
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM personalization_event WHERE id > %s", [base_max])
        PickDecision.objects.filter(user_id__gte=first_user).delete()
        from django.core.cache import cache

        cache.clear()
    size = f"{SAMPLE} of {EVAL_SHOPPERS:,} shoppers with a taste, on {shoppers:,} / {events:,}"
    return [
        {
            "name": "recommendations.hit_rate_at_10",
            "value": round(ours, 4),
            "unit": "ratio",
            "size": size,
            "reference": f"{backend.name}; held-out last purchase in the top 10",
        },
        {
            "name": "recommendations.popularity_hit_rate_at_10",
            "value": round(baseline, 4),
            "unit": "ratio",
            "size": size,
            "reference": "popularity baseline, same shoppers and held-out purchases",
        },
        {
            "name": "recommendations.refresh",
            "value": round(refresh, 3),
            "unit": "s",
            "size": f"{counts['pairs']:,} pairs from {events:,}+ events",
            "reference": "set-based SQL refresh of pairs and popularity",
        },
        {
            "name": "recommendations.warm_picks",
            "value": round(median / 1000, 6),
            "unit": "s",
            "size": f"median of 200 shoppers, p95 {p95:.3f} ms, {queries} queries",
            "reference": "target: 0 queries and <= 2 ms added to the page",
        },
        {
            "name": "recommendations.picks_rendered_each_time",
            "value": round(rendered / 1000, 6),
            "unit": "s",
            "size": "median of 200 shoppers, same run as warm_picks",
            "reference": "the fragment rendered from the cached picks (no fragment cache)",
        },
    ]
