"""Preference profiles at scale: 100,000 shoppers, 1,000,000 events on PostgreSQL.

Rows: profiles.full_build (a full build over unchanged events: what a nightly rebuild mostly
meets), profiles.full_build_rewrite (one that rewrites every profile),
profiles.incremental_build (after 10,000 new events),
profiles.sql_floor (the build's aggregation statements alone, nothing written),
profiles.sql_floor_group_by (a bare GROUP BY user over the events), profiles.cached_read.
The full build and the SQL floor sum the affinities in two parts under parallel workers when
PostgreSQL has them free (``building.AFFINITY_PARTS``), so on a busy machine they vary more
than the single-process rows; compare them with the bare GROUP BY of the same run.
The data is made with generate_series and kept between runs (the extra events of the
incremental run are deleted afterwards), so a second ``make bench`` starts at once.
"""

import statistics
import time

from django.db import connection, transaction

CATEGORIES, BRANDS, PRODUCTS = 20, 60, 2000
NEW_EVENTS = 10_000

CATALOGUE_SQL = """
INSERT INTO shop_category (name, slug, parent_id, description, position)
SELECT 'Bench category ' || g, 'bench-category-' || g, NULL, '', g
FROM generate_series(1, %(categories)s) g;
INSERT INTO shop_brand (name, slug)
SELECT 'Bench brand ' || g, 'bench-brand-' || g FROM generate_series(1, %(brands)s) g;
INSERT INTO shop_product (name, slug, category_id, brand_id, description, price, colour, style,
    function, rating_avg, rating_count, is_active, created_at, updated_at)
SELECT 'Bench product ' || g, 'bench-product-' || g,
    (SELECT min(id) FROM shop_category WHERE slug LIKE 'bench-%%') + g %% %(categories)s,
    (SELECT min(id) FROM shop_brand WHERE slug LIKE 'bench-%%') + g %% %(brands)s,
    '', round((5 + random() * 400)::numeric, 2),
    (ARRAY['Red','Blue','Green','Black','White','Grey','Beige','Navy'])[1 + g %% 8],
    (ARRAY['Classic','Rugged','Minimal','Retro','Sport','Compact'])[1 + g %% 6],
    'Everyday', 0, 0, true, now(), now()
FROM generate_series(1, %(products)s) g;
INSERT INTO shop_variant (product_id, sku, size, colour, stock, position)
SELECT p.id, 'BENCH-' || p.id, (ARRAY['XS','S','M','L','XL','38','40','42'])[1 + p.id %% 8],
    p.colour, 100, 0
FROM shop_product p WHERE p.slug LIKE 'bench-product-%%' ORDER BY p.id;
"""

SHOPPERS_SQL = """
INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name,
    email, is_staff, is_active, date_joined)
SELECT '!', NULL, false, 'bench' || g, '', '', 'bench' || g || '@bench.test', false, true, now()
FROM generate_series(1, %(shoppers)s) g;
"""

# ~70% views, 12% cart adds, 8% likes, 5% purchases, 3% searches, 2% text signals, spread over
# a year; shopper and product drawn uniformly.
EVENTS_SQL = """
INSERT INTO personalization_event (kind, user_id, session_key, product_id, attributes, value,
    occurred_at)
SELECT k.kind, s.user_id, '', CASE WHEN k.kind IN ('search', 'text_signal') THEN NULL
    ELSE p.id END,
    CASE k.kind
        WHEN 'add_to_cart' THEN jsonb_build_object('quantity', 1, 'variant', v.id)
        WHEN 'purchase' THEN jsonb_build_object('quantity', 1, 'order', 'B' || s.g)
        WHEN 'search' THEN jsonb_build_object('query', 'bench', 'results', 10)
        WHEN 'text_signal' THEN jsonb_build_object(
            'sentiment', round((random() * 2 - 1)::numeric, 3),
            'intent', CASE WHEN s.r > 0.99 THEN 'replacement' ELSE 'gift' END,
            'category_id', p.category_id,
            'expires_at', to_char(s.at + interval '30 days', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'))
        ELSE '{}'::jsonb END,
    CASE WHEN k.kind = 'purchase' THEN p.price END,
    s.at
FROM (
    SELECT g, random() AS r,
        %(first_user)s + floor(random() * %(shoppers)s)::bigint AS user_id,
        floor(random() * %(products)s)::int AS product_offset,
        %(newest)s::timestamptz - random() * %(spread)s::interval AS at
    FROM generate_series(1, %(events)s) g
) s
CROSS JOIN LATERAL (SELECT CASE WHEN s.r < 0.70 THEN 'view' WHEN s.r < 0.82 THEN 'add_to_cart'
    WHEN s.r < 0.90 THEN 'like' WHEN s.r < 0.95 THEN 'purchase' WHEN s.r < 0.98 THEN 'search'
    ELSE 'text_signal' END AS kind) k
JOIN shop_product p ON p.id = %(first_product)s + s.product_offset
JOIN shop_variant v ON v.product_id = p.id
"""


def _scalar(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _ids():
    first_user = _scalar("SELECT min(id) FROM auth_user WHERE username LIKE 'bench%%'")
    first_product = _scalar("SELECT min(id) FROM shop_product WHERE slug LIKE 'bench-product-%%'")
    return first_user, first_product


def _insert_events(*, count, shoppers, spread, first_user, first_product):
    with connection.cursor() as cursor:
        cursor.execute(
            EVENTS_SQL,
            {
                "events": count,
                "shoppers": shoppers,
                "products": PRODUCTS,
                "first_user": first_user,
                "first_product": first_product,
                "newest": "now",
                "spread": spread,
            },
        )


def make_data(*, shoppers: int, events: int, log) -> None:
    """Create the bench catalogue, shoppers and events unless they are already there."""
    have_shoppers = _scalar("SELECT count(*) FROM auth_user WHERE username LIKE 'bench%%'")
    have_events = _scalar("SELECT count(*) FROM personalization_event")
    if have_shoppers == shoppers and have_events == events:
        log(f"reusing {shoppers:,} shoppers and {events:,} events")
        return
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE personalization_event, personalization_preferenceprofile, "
            "personalization_profilebuildstate, personalization_profilebuildrun"
        )
        if _scalar("SELECT count(*) FROM shop_product WHERE slug LIKE 'bench-%%'") == 0:
            cursor.execute(
                CATALOGUE_SQL,
                {"categories": CATEGORIES, "brands": BRANDS, "products": PRODUCTS},
            )
        if have_shoppers != shoppers:
            cursor.execute("DELETE FROM auth_user WHERE username LIKE 'bench%%'")
            cursor.execute(SHOPPERS_SQL, {"shoppers": shoppers})
        first_user, first_product = _ids()
        _insert_events(
            count=events,
            shoppers=shoppers,
            spread="365 days",
            first_user=first_user,
            first_product=first_product,
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE personalization_event")
        cursor.execute("ANALYZE")
    log(
        f"made {shoppers:,} shoppers and {events:,} events in {time.perf_counter() - started:.1f} s"
    )


def vacuum_profiles() -> None:
    """VACUUM ANALYZE the profile and event tables, untimed, as autovacuum would have done.

    A server of this kind may run with autovacuum off (the CI machines' conf.d/90-ci.conf
    does): the builds' dead row versions would then pile up from run to run, updates would stop
    fitting on their page (HOT) and every later figure would measure the bloat instead of the
    build. Production PostgreSQL keeps autovacuum on.
    """
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE personalization_preferenceprofile, personalization_event")


def sql_floor() -> float:
    """The build's aggregation statements alone (into temporary tables), rolled back."""
    from personalization import building

    hi = _scalar("SELECT max(id) FROM personalization_event")
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        building.aggregate_sql(cursor, lo=0, hi=hi)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def bare_group_by() -> float:
    started = time.perf_counter()
    _scalar(
        "SELECT count(*) FROM (SELECT user_id, count(*), sum(value), max(occurred_at) "
        "FROM personalization_event WHERE user_id IS NOT NULL GROUP BY user_id) AS per_user"
    )
    return time.perf_counter() - started


def cached_reads(*, samples: int = 2000) -> tuple[float, float, str]:
    """Median and p99 seconds of ``profile_for`` once the profiles are cached, and the cache.

    The builds before this forgot every profile, each with a lease (``config.cache``) during
    which fills are not stored, so it first waits the leases out (one to two lease lengths);
    it checks that the fills were stored, else it would time database reads.
    """
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache

    from config.cache import lease_seconds
    from personalization.selectors import CACHE_KEY, profile_for

    users = list(
        get_user_model()
        .objects.filter(username__startswith="bench", preference_profile__isnull=False)
        .order_by("pk")[:samples]
    )
    time.sleep(2 * lease_seconds() + 0.1)
    for user in users:
        profile_for(user)  # fill the cache
    cached = cache.get_many([CACHE_KEY.format(user.pk) for user in users])
    assert len(cached) == len(users), f"only {len(cached)} of {len(users)} profiles cached"
    timings = []
    for user in users:
        started = time.perf_counter()
        profile = profile_for(user)
        timings.append(time.perf_counter() - started)
        assert profile is not None
    timings.sort()
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return statistics.median(timings), timings[int(len(timings) * 0.99)], backend


def run(*, shoppers: int, events: int) -> list[dict]:
    from personalization import building

    def log(message):
        print(f"[profiles] {message}", flush=True)

    make_data(shoppers=shoppers, events=events, log=log)
    from django.core.cache import cache

    cache.get("bench:warm-up")  # import and connect the cache client outside the timings
    size = f"{shoppers:,} shoppers, {events:,} events"

    floor = min(sql_floor() for _ in range(2))
    log(f"SQL floor (aggregation only): {floor:.2f} s")
    group_by = min(bare_group_by() for _ in range(2))
    log(f"bare GROUP BY user: {group_by:.2f} s")

    vacuum_profiles()
    full_runs = []
    for _ in range(2):
        result = building.build_full()
        full_runs.append(result.seconds)
        log(f"full build: {result.seconds:.2f} s, {result.profiles:,} profiles")
    full = min(full_runs)

    # the same build when every profile differs from what it would write (a first build, or
    # one after the scoring settings changed): the full write path, 100,000 rows
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE personalization_preferenceprofile SET sentiment_count = sentiment_count + 1"
        )
        cursor.execute("VACUUM personalization_preferenceprofile")
    rewrite = building.build_full()
    log(f"full build, every profile rewritten: {rewrite.seconds:.2f} s, {rewrite.profiles:,}")

    base_max = _scalar("SELECT max(id) FROM personalization_event")
    first_user, first_product = _ids()
    _insert_events(
        count=NEW_EVENTS,
        shoppers=shoppers,
        spread="1 minute",
        first_user=first_user,
        first_product=first_product,
    )
    vacuum_profiles()
    started = time.perf_counter()
    result = building.build_incremental()
    incremental = time.perf_counter() - started
    log(
        f"incremental build of {NEW_EVENTS:,} events: {incremental:.3f} s "
        f"({result.profiles:,} profiles)"
    )

    median, p99, backend = cached_reads()
    log(f"cached profile read ({backend}): median {median * 1000:.3f} ms, p99 {p99 * 1000:.3f} ms")

    with connection.cursor() as cursor:  # back to the base data for the next run
        cursor.execute("DELETE FROM personalization_event WHERE id > %s", [base_max])
    building.build_full()

    return [
        {
            "name": "profiles.full_build",
            "value": round(full, 3),
            "unit": "s",
            "size": size,
            "reference": "goal <= 3 s; best of 2 runs; SHARE lock, aggregation, upsert, commit",
        },
        {
            "name": "profiles.full_build_rewrite",
            "value": round(rewrite.seconds, 3),
            "unit": "s",
            "size": size,
            "reference": "one full build that finds every profile changed and rewrites it "
            "(profiles.full_build: the usual nightly case, few or none changed)",
        },
        {
            "name": "profiles.incremental_build",
            "value": round(incremental, 4),
            "unit": "s",
            "size": f"{NEW_EVENTS:,} new events on {size}",
            "reference": "goal <= 0.2 s (issue 15)",
        },
        {
            "name": "profiles.sql_floor",
            "value": round(floor, 3),
            "unit": "s",
            "size": size,
            "reference": "building.aggregate_sql alone, nothing written",
        },
        {
            "name": "profiles.sql_floor_group_by",
            "value": round(group_by, 3),
            "unit": "s",
            "size": size,
            "reference": "bare SELECT ... GROUP BY user_id over the events",
        },
        {
            "name": "profiles.cached_read",
            "value": round(median, 6),
            "unit": "s",
            "size": f"median of {2000} reads, p99 {p99 * 1000:.3f} ms, {backend}",
            "reference": "target <= 0.001 s",
        },
    ]
